// Command setversion keeps every place that names the kseal release in step
// with release.env, the one place the version and the image repository are
// set: the chart's version and appVersion, its image repository, the
// kustomize base and config/install.yaml, the krew manifest, and the
// install commands in README.md, docs/ and .pre-commit-hooks.yaml.
//
//	go run ./hack/setversion -check                 report every copy that disagrees (exit 1)
//	go run ./hack/setversion -version v0.2.0        set a new version everywhere
//	go run ./hack/setversion -image-repo REGISTRY/kseal-controller
//
// `make set-version VERSION=v0.2.0` runs the second; TestVersionsAgree runs
// the check.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Release is what release.env sets.
type Release struct {
	Version   string // v0.1.0
	ImageRepo string // ghcr.io/kseal-dev/kseal-controller
}

// chartVersion is the version without its v: a chart's version, and the
// archive names goreleaser gives.
func (r Release) chartVersion() string { return strings.TrimPrefix(r.Version, "v") }

// image is the controller image reference the release installs.
func (r Release) image() string { return r.ImageRepo + ":" + r.Version }

var semver = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)

// Validate refuses a version that is not vMAJOR.MINOR.PATCH[-PRE] (Go
// modules, Helm and krew all need semantic versions) and an image
// repository with a tag or digest.
func (r Release) Validate() error {
	if !semver.MatchString(r.Version) {
		return fmt.Errorf("VERSION=%q: want a semantic version like v0.1.0", r.Version)
	}
	if r.ImageRepo == "" || strings.ContainsAny(r.ImageRepo, "@ \t") || strings.Contains(r.ImageRepo[strings.LastIndex(r.ImageRepo, "/")+1:], ":") {
		return fmt.Errorf("IMAGE_REPO=%q: want a repository without tag or digest, like ghcr.io/kseal-dev/kseal-controller", r.ImageRepo)
	}
	return nil
}

// rule is one kind of place a file names the release: the first group of
// re holds the value want returns.
type rule struct {
	what string
	re   *regexp.Regexp
	want func(Release) string
}

func version(r Release) string      { return r.Version }
func chartVersion(r Release) string { return r.chartVersion() }
func imageRepo(r Release) string    { return r.ImageRepo }
func image(r Release) string        { return r.image() }

// docRules find the release in install commands and links, wherever they
// are written: the image, release download links, go install, pre-commit
// revs, archive names, helm --version and the tag's cosign.pub.
var docRules = []rule{
	{"controller image tag", regexp.MustCompile(`kseal-controller:(v[0-9][^\s"'` + "`" + `)\]]*)`), version},
	{"release download link", regexp.MustCompile(`kseal/releases/download/([^/\s]+)/`), version},
	{"cosign.pub at the tag", regexp.MustCompile(`/kseal/(v[0-9][^/\s]*)/cosign\.pub`), version},
	{"go install version", regexp.MustCompile(`kseal\.dev/kseal/cmd/kseal(?:-controller)?@(v[^\s"'` + "`" + `]+)`), version},
	{"pre-commit rev", regexp.MustCompile(`(?m)^[#\s]*rev: (v[0-9]\S*)`), version},
	{"release archive name", regexp.MustCompile(`kseal(?:-controller)?_([0-9]+\.[0-9]+\.[0-9]+[^_\s]*)_(?:linux|darwin|windows)`), chartVersion},
	{"helm --version", regexp.MustCompile(`charts/kseal\S* --version ([0-9]\S*)`), chartVersion},
}

// files maps each checked file (a glob, from the repository root) to its
// rules: the doc rules, and the fields of the chart and manifests.
var files = map[string][]rule{
	"charts/kseal/Chart.yaml": {
		{"chart version", regexp.MustCompile(`(?m)^version: (\S+)$`), chartVersion},
		{"chart appVersion", regexp.MustCompile(`(?m)^appVersion: "([^"]*)"$`), version},
	},
	"charts/kseal/values.yaml": {
		{"image repository", regexp.MustCompile(`(?m)^  repository: (\S+)$`), imageRepo},
	},
	"config/manager/kustomization.yaml": {
		{"kustomize image newName", regexp.MustCompile(`(?m)^  newName: (\S+)$`), imageRepo},
		{"kustomize image newTag", regexp.MustCompile(`(?m)^  newTag: (\S+)$`), version},
	},
	"config/install.yaml": {
		{"Deployment image", regexp.MustCompile(`(?m)^ +image: (\S+)$`), image},
	},
	"plugins/kseal.yaml": {
		{"krew version", regexp.MustCompile(`(?m)^  version: (\S+)$`), version},
	},
	"README.md":                        nil,
	"CONTRIBUTING.md":                  nil,
	"docs/*.md":                        nil,
	".pre-commit-hooks.yaml":           nil,
	"charts/kseal/templates/NOTES.txt": nil,
}

// required are the rules that must match at least once in their file: a
// file that no longer names the release at all is as wrong as a stale one.
var required = map[string]bool{
	"charts/kseal/Chart.yaml": true, "charts/kseal/values.yaml": true,
	"config/manager/kustomization.yaml": true, "config/install.yaml": true, "plugins/kseal.yaml": true,
}

// latest finds an install path that floats instead of naming a release.
var latest = regexp.MustCompile(`[^\s"'` + "`" + `]*(?::latest|@latest|releases/latest)\b|(?m)^\s*(?:appVersion|tag|newTag|version): "?latest"?\s*$`)

// Problem is one place that disagrees with release.env.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// ReadRelease reads release.env in root.
func ReadRelease(root string) (Release, error) {
	f, err := os.Open(filepath.Join(root, "release.env"))
	if err != nil {
		return Release{}, err
	}
	defer f.Close()
	var r Release
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		switch {
		case !ok:
			return Release{}, fmt.Errorf("release.env:%d: want KEY=VALUE", n)
		case k == "VERSION":
			r.Version = v
		case k == "IMAGE_REPO":
			r.ImageRepo = v
		default:
			return Release{}, fmt.Errorf("release.env:%d: unknown key %q (VERSION, IMAGE_REPO)", n, k)
		}
	}
	if err := s.Err(); err != nil {
		return Release{}, err
	}
	return r, r.Validate()
}

// paths expands the checked files' globs in root, sorted.
func paths(root string) (map[string][]rule, error) {
	out := map[string][]rule{}
	for glob, rules := range files {
		ms, err := filepath.Glob(filepath.Join(root, glob))
		if err != nil {
			return nil, err
		}
		if len(ms) == 0 && !strings.Contains(glob, "*") && glob != "CONTRIBUTING.md" {
			return nil, fmt.Errorf("%s is missing", glob)
		}
		for _, m := range ms {
			rel, _ := filepath.Rel(root, m)
			out[filepath.ToSlash(rel)] = append(append([]rule(nil), rules...), docRules...)
		}
	}
	return out, nil
}

// Check returns every place under root that names another release than
// r, says latest, or (for the manifests) no longer names one.
func Check(root string, r Release) ([]Problem, error) {
	ps, err := paths(root)
	if err != nil {
		return nil, err
	}
	var probs []Problem
	for _, name := range sortedKeys(ps) {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return nil, err
		}
		for _, loc := range latest.FindAllIndex(b, -1) {
			probs = append(probs, Problem{name, lineOf(b, loc[0]), fmt.Sprintf("%q floats: name the release (%s)", strings.TrimSpace(string(b[loc[0]:loc[1]])), r.Version)})
		}
		for _, ru := range ps[name] {
			ms := ru.re.FindAllSubmatchIndex(b, -1)
			if len(ms) == 0 && required[name] && !isDocRule(ru) {
				probs = append(probs, Problem{name, 0, fmt.Sprintf("no %s found", ru.what)})
			}
			for _, m := range ms {
				if got, want := string(b[m[2]:m[3]]), ru.want(r); got != want {
					probs = append(probs, Problem{name, lineOf(b, m[2]), fmt.Sprintf("%s is %s, release.env says %s", ru.what, got, want)})
				}
			}
		}
	}
	return probs, nil
}

// Set rewrites release.env and every place Check looks at to name r.
func Set(root string, r Release) error {
	if err := r.Validate(); err != nil {
		return err
	}
	ps, err := paths(root)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(ps) {
		p := filepath.Join(root, name)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := b
		for _, ru := range ps[name] {
			out = replaceGroup(out, ru.re, ru.want(r))
		}
		if !bytes.Equal(out, b) {
			if err := os.WriteFile(p, out, 0o644); err != nil {
				return err
			}
		}
	}
	env := filepath.Join(root, "release.env")
	b, err := os.ReadFile(env)
	if err != nil {
		return err
	}
	b = replaceGroup(b, regexp.MustCompile(`(?m)^VERSION=(.*)$`), r.Version)
	b = replaceGroup(b, regexp.MustCompile(`(?m)^IMAGE_REPO=(.*)$`), r.ImageRepo)
	return os.WriteFile(env, b, 0o644)
}

// replaceGroup replaces the first group of every match of re in b by v.
func replaceGroup(b []byte, re *regexp.Regexp, v string) []byte {
	var out []byte
	last := 0
	for _, m := range re.FindAllSubmatchIndex(b, -1) {
		out = append(append(out, b[last:m[2]]...), v...)
		last = m[3]
	}
	return append(out, b[last:]...)
}

func isDocRule(ru rule) bool {
	for _, d := range docRules {
		if d.re == ru.re {
			return true
		}
	}
	return false
}

func lineOf(b []byte, off int) int { return bytes.Count(b[:off], []byte("\n")) + 1 }

func sortedKeys(m map[string][]rule) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func main() {
	check := flag.Bool("check", false, "report every place that disagrees with release.env, and exit 1 if any does")
	ver := flag.String("version", "", "the new release version (vMAJOR.MINOR.PATCH)")
	repo := flag.String("image-repo", "", "the new controller image repository (REGISTRY/kseal-controller)")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	if err := run(*root, *check, *ver, *repo); err != nil {
		fmt.Fprintf(os.Stderr, "setversion: %v\n", err)
		os.Exit(1)
	}
}

var errDisagree = errors.New("these disagree with release.env (make set-version fixes them)")

func run(root string, check bool, ver, repo string) error {
	r, err := ReadRelease(root)
	if err != nil {
		return err
	}
	if !check {
		if ver != "" {
			r.Version = ver
		}
		if repo != "" {
			r.ImageRepo = repo
		}
		if err := Set(root, r); err != nil {
			return err
		}
	}
	probs, err := Check(root, r)
	if err != nil {
		return err
	}
	for _, p := range probs {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(probs) > 0 {
		return errDisagree
	}
	fmt.Printf("release %s, image %s\n", r.Version, r.image())
	return nil
}

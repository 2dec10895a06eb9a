package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// hook is one entry of .pre-commit-hooks.yaml, with every field pre-commit
// would act on for these hooks.
type hook struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Description   string   `yaml:"description"`
	Entry         string   `yaml:"entry"`
	Language      string   `yaml:"language"`
	Files         string   `yaml:"files"`
	Exclude       string   `yaml:"exclude"`
	Args          []string `yaml:"args"`
	PassFilenames *bool    `yaml:"pass_filenames"`
	AlwaysRun     bool     `yaml:"always_run"`
	RequireSerial bool     `yaml:"require_serial"`
}

func loadHooks(t *testing.T) map[string]hook {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	// A field this emulation does not know (types, stages, …) would change
	// what pre-commit runs: fail rather than test something else.
	dec.KnownFields(true)
	var hs []hook
	if err := dec.Decode(&hs); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	out := map[string]hook{}
	for _, h := range hs {
		if h.ID == "" || h.Name == "" || h.Entry == "" || h.Language == "" {
			t.Fatalf("hook %+v: id, name, entry and language are required", h)
		}
		out[h.ID] = h
	}
	return out
}

// runHook runs h in the git repository dir the way `pre-commit run` does
// at commit time: the staged files, filtered by files and exclude (Python
// re.search, which Go's regexp matches for these patterns), appended to
// the entry (split like shlex) and args unless pass_filenames is false; the
// hook is skipped when no file matches, unless always_run. It returns the
// exit code, -1 for skipped.
func runHook(t *testing.T, dir string, h hook) (int, string) {
	t.Helper()
	staged := git(t, dir, "diff", "--staged", "--name-only", "--no-ext-diff", "-z")
	var files []string
	inc := regexp.MustCompile(h.Files) // "" matches everything, as in pre-commit
	exc := regexp.MustCompile("^$")
	if h.Exclude != "" {
		exc = regexp.MustCompile(h.Exclude)
	}
	for _, f := range strings.Split(staged, "\x00") {
		if f == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || !st.Mode().IsRegular() {
			continue // deleted, or not a file: pre-commit's "file" type
		}
		if inc.MatchString(f) && !exc.MatchString(f) {
			files = append(files, f)
		}
	}
	if len(files) == 0 && !h.AlwaysRun {
		return -1, ""
	}
	argv := append(strings.Fields(h.Entry), h.Args...)
	if h.PassFilenames == nil || *h.PassFilenames {
		argv = append(argv, files...)
	}
	path := os.Getenv("PATH") // testscript.Main put kseal (this test binary) first
	cmd := exec.Command(lookPath(t, argv[0], path), argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path, "KSEAL_NO_PROGRESS=1")
	out, err := cmd.CombinedOutput()
	var xe *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &xe):
		return xe.ExitCode(), string(out)
	}
	t.Fatalf("%s: %v", h.ID, err)
	return 0, ""
}

// lookPath finds name in path, as the shell pre-commit starts would.
func lookPath(t *testing.T, name, path string) string {
	t.Helper()
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s not found in %s", name, path)
	return ""
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func needGit(t *testing.T) {
	t.Helper()
	if toolPath("git") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not on PATH under CI=true")
		}
		t.Skip("git is not on PATH")
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const plainSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: orders
stringData:
  password: hunter2
`

const helmTemplate = `apiVersion: v1
kind: Secret
metadata:
  name: {{ include "web.fullname" . }}
stringData:
  {{- toYaml .Values.secrets | nindent 2 }}
`

// TestPreCommitHooks runs the hooks of .pre-commit-hooks.yaml as pre-commit
// would, in real git repositories: with a kseal.yaml (examples/gitops,
// with exclude globs) and without one.
func TestPreCommitHooks(t *testing.T) {
	needGit(t)
	hooks := loadHooks(t)
	for _, id := range []string{"kseal-plaintext", "kseal-policy"} {
		if _, ok := hooks[id]; !ok {
			t.Fatalf(".pre-commit-hooks.yaml has no hook %q", id)
		}
	}
	sealed, err := os.ReadFile(filepath.Join("..", "..", "examples", "gitops", "apps", "orders", "db.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		name  string
		files map[string]string // written and staged
		want  map[string]int    // hook id → exit code (-1: skipped)
		out   map[string]string // hook id → regexp its output must match
	}
	cases := []struct {
		name   string
		policy bool
		steps  []step
	}{
		{
			name: "no policy",
			steps: []step{
				{
					name:  "sealed file and a README",
					files: map[string]string{"k8s/db.yaml": string(sealed), "README.md": "kind: Secret\n"},
					want:  map[string]int{"kseal-plaintext": 0, "kseal-policy": 0},
				},
				{
					name:  "only a README",
					files: map[string]string{"README.md": "hello\n"},
					want:  map[string]int{"kseal-plaintext": -1, "kseal-policy": 0},
				},
				{
					name:  "plaintext Secret",
					files: map[string]string{"k8s/plain.yml": plainSecret},
					want:  map[string]int{"kseal-plaintext": 4, "kseal-policy": 4},
					out: map[string]string{
						"kseal-plaintext": `(?m)^k8s/plain.yml:1: Secret orders/db: plaintext Secret committed`,
						"kseal-policy":    `checking for plaintext only`,
					},
				},
				{
					name:  "kustomize secretGenerator literal",
					files: map[string]string{"gen/kustomization.yaml": "secretGenerator:\n- name: app\n  literals: [PASSWORD=hunter2]\n"},
					want:  map[string]int{"kseal-plaintext": 4, "kseal-policy": 4},
					out:   map[string]string{"kseal-plaintext": `(?m)^gen/kustomization.yaml:3: secretGenerator app: literal PASSWORD holds a plaintext value`},
				},
				{
					name:  "kustomization reading a dotenv not yet added",
					files: map[string]string{"env/kustomization.yaml": "secretGenerator:\n- name: app\n  envs: [app.env]\n"},
					want:  map[string]int{"kseal-plaintext": 4},
					out:   map[string]string{"kseal-plaintext": `(?m)^env/kustomization.yaml:3: secretGenerator app: envs app.env: not found`},
				},
				{
					// Staged alone: the kustomization that reads it was
					// committed before.
					name:  "plaintext dotenv a kustomization reads",
					files: map[string]string{"env/app.env": "PASSWORD=hunter2\n"},
					want:  map[string]int{"kseal-plaintext": 4},
					out:   map[string]string{"kseal-plaintext": `(?m)^env/app.env:1: plaintext dotenv that .*env/kustomization.yaml makes a Secret of`},
				},
				{
					name:  "dotenv no kustomization reads",
					files: map[string]string{"compose/.env": "PASSWORD=hunter2\n"},
					want:  map[string]int{"kseal-plaintext": 0},
				},
				{
					name:  "plaintext Secret with an upper-case extension",
					files: map[string]string{"k8s/PLAIN.YAML": plainSecret},
					want:  map[string]int{"kseal-plaintext": 4, "kseal-policy": 4},
					out:   map[string]string{"kseal-plaintext": `(?m)^k8s/PLAIN.YAML:1: Secret orders/db: plaintext Secret committed`},
				},
			},
		},
		{
			name:   "policy with exclude",
			policy: true,
			steps: []step{
				{
					name:  "Helm template under an excluded path",
					files: map[string]string{"charts/web/templates/secret.yaml": helmTemplate},
					want:  map[string]int{"kseal-plaintext": 0, "kseal-policy": 0},
					out:   map[string]string{"kseal-plaintext": `1 file excluded, no findings`},
				},
				{
					name:  "Helm template elsewhere",
					files: map[string]string{"web/secret.yaml": helmTemplate},
					want:  map[string]int{"kseal-plaintext": 4, "kseal-policy": 4},
					out:   map[string]string{"kseal-plaintext": `web/secret.yaml:1: .*invalid YAML`},
				},
				{
					name:  "sealed to the wrong namespace",
					files: map[string]string{"web/secret.yaml": string(sealed), "apps/payments/db.yaml": string(sealed)},
					// The plaintext guard holds nothing but plaintext; the
					// policy hook holds the namespace to the service.
					want: map[string]int{"kseal-plaintext": 0, "kseal-policy": 4},
					out:  map[string]string{"kseal-policy": `apps/payments/db.yaml:1: SealedSecret orders/orders-db: .*service "payments" owns namespaces \[payments\], not "orders"`},
				},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			git(t, dir, "init", "-q", "-b", "main")
			if tc.policy {
				if err := exec.Command("cp", "-r", filepath.Join("..", "..", "examples", "gitops")+"/.", dir).Run(); err != nil {
					t.Fatal(err)
				}
				f, err := os.OpenFile(filepath.Join(dir, "kseal.yaml"), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(f, `exclude: ["charts/*/templates/**"]`)
				f.Close()
				git(t, dir, "add", "-A")
				git(t, dir, "commit", "-qm", "base")
			}
			for _, st := range tc.steps {
				for f, text := range st.files {
					writeFile(t, filepath.Join(dir, f), text)
					git(t, dir, "add", f)
				}
				for _, id := range slices.Sorted(func(yield func(string) bool) {
					for id := range st.want {
						if !yield(id) {
							return
						}
					}
				}) {
					code, out := runHook(t, dir, hooks[id])
					if code != st.want[id] {
						t.Errorf("%s: hook %s exited %d, want %d\n%s", st.name, id, code, st.want[id], out)
					}
					if re := st.out[id]; re != "" && !regexp.MustCompile(re).MatchString(out) {
						t.Errorf("%s: hook %s output does not match %q:\n%s", st.name, id, re, out)
					}
				}
				git(t, dir, "commit", "-qm", st.name, "--allow-empty")
			}
		})
	}
}

// TestPreCommitTryRepo runs the real pre-commit (Debian's package) on this
// repository's hooks: it validates .pre-commit-hooks.yaml, builds kseal
// from the committed tree as a language: golang hook does (sharing this
// machine's module and build caches, which pre-commit's GOPATH would
// otherwise hide), and runs both hooks on a staged plaintext Secret.
// About a minute; skipped with -short, and when pre-commit is not
// installed (outside CI=true, where hack/tools.sh provides it).
func TestPreCommitTryRepo(t *testing.T) {
	needGit(t)
	if testing.Short() {
		t.Skip("builds kseal in pre-commit's environment (-short)")
	}
	preCommit := toolPath("pre-commit")
	if preCommit == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("pre-commit is not available under CI=true: run make test (hack/tools.sh installs it)")
		}
		t.Skip("pre-commit is not installed (apt-get install pre-commit, or hack/tools.sh pre-commit)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	run := func(dir string, args ...string) (int, string) {
		cmd := exec.Command(preCommit, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PRE_COMMIT_HOME="+t.TempDir(),
			"GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOCACHE="+goEnv(t, "GOCACHE"), "KSEAL_NO_PROGRESS=1")
		out, err := cmd.CombinedOutput()
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			return xe.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := run(root, "validate-manifest", ".pre-commit-hooks.yaml"); code != 0 {
		t.Fatalf("pre-commit validate-manifest: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	writeFile(t, filepath.Join(dir, "k8s", "plain.yaml"), plainSecret)
	git(t, dir, "add", "-A")
	code, out := run(dir, "try-repo", root, "--files", "k8s/plain.yaml")
	if code != 1 {
		t.Fatalf("pre-commit try-repo: exit %d, want 1\n%s", code, out)
	}
	for _, re := range []string{
		`kseal plaintext guard\.+Failed`,
		`kseal policy check\.+Failed`,
		`(?m)^k8s/plain.yaml:1: Secret orders/db: plaintext Secret committed`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("pre-commit output does not match %q:\n%s", re, out)
		}
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

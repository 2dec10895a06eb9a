package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const root = "../.."

// TestVersionsAgree: every install path in the repository (the chart, the
// kustomize base, config/install.yaml, the krew manifest, the install
// commands in the docs) names the release release.env sets, and none
// floats on latest.
func TestVersionsAgree(t *testing.T) {
	r, err := ReadRelease(root)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := Check(root, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("%s (make set-version VERSION=%s fixes it)", p, r.Version)
	}
	if b, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md")); err != nil || !strings.Contains(string(b), "## "+r.Version) {
		t.Errorf("CHANGELOG.md has no section for %s (## %s): %v", r.Version, r.Version, err)
	}
}

// copyTree copies the files setversion reads into a new directory.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	globs := []string{"release.env"}
	for g := range files {
		globs = append(globs, g)
	}
	for _, g := range globs {
		ms, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			rel, _ := filepath.Rel(root, m)
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, rel), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dst
}

// TestCheckFindsDisagreement: each way a copy can go stale or float is
// reported, naming the file and line.
func TestCheckFindsDisagreement(t *testing.T) {
	for _, c := range []struct {
		name, file, old, new, says string
	}{
		{"chart appVersion latest", "charts/kseal/Chart.yaml", `appVersion: "v0.1.0"`, `appVersion: "latest"`, `charts/kseal/Chart.yaml:`},
		{"chart version behind", "charts/kseal/Chart.yaml", "version: 0.1.0", "version: 0.0.9", "chart version is 0.0.9"},
		{"install.yaml image latest", "config/install.yaml", "kseal-controller:v0.1.0", "kseal-controller:latest", `kseal-controller:latest" floats`},
		{"install.yaml other registry", "config/install.yaml", "ghcr.io/kseal-dev/", "quay.io/x/", "Deployment image is quay.io/x/kseal-controller:v0.1.0"},
		{"kustomize newTag", "config/manager/kustomization.yaml", "newTag: v0.1.0", "newTag: v0.0.9", "kustomize image newTag is v0.0.9"},
		{"values repository", "charts/kseal/values.yaml", "repository: ghcr.io/kseal-dev/kseal-controller", "repository: kseal-controller", "image repository is kseal-controller"},
		{"krew version", "plugins/kseal.yaml", "version: v0.1.0", "version: v0.0.9", "krew version is v0.0.9"},
		{"README download link", "README.md", "releases/download/v0.1.0/", "releases/download/v0.0.9/", "release download link is v0.0.9"},
		{"pre-commit rev", ".pre-commit-hooks.yaml", "rev: v0.1.0", "rev: v0.0.9", "pre-commit rev is v0.0.9"},
		{"cosign.pub of another tag", "docs/release.md", "kseal/v0.1.0/cosign.pub", "kseal/v0.0.9/cosign.pub", "cosign.pub at the tag is v0.0.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyTree(t)
			p := filepath.Join(dir, c.file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), c.old) {
				t.Fatalf("%s does not contain %q", c.file, c.old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), c.old, c.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := ReadRelease(dir)
			if err != nil {
				t.Fatal(err)
			}
			probs, err := Check(dir, r)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, p := range probs {
				all = append(all, p.String())
			}
			if !strings.Contains(strings.Join(all, "\n"), c.says) {
				t.Errorf("check says %q, want %q", all, c.says)
			}
		})
	}
}

// TestSetVersion: setting a new version and registry rewrites every copy,
// after which the check passes for the new release and fails for the old.
func TestSetVersion(t *testing.T) {
	dir := copyTree(t)
	next := Release{Version: "v0.2.0-rc.1", ImageRepo: "registry.example.com/team/kseal-controller"}
	if err := Set(dir, next); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRelease(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r != next {
		t.Fatalf("release.env says %+v, want %+v", r, next)
	}
	if probs, err := Check(dir, r); err != nil || len(probs) > 0 {
		t.Fatalf("after set: %v %v", err, probs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config", "install.yaml"))
	if !strings.Contains(string(b), "image: registry.example.com/team/kseal-controller:v0.2.0-rc.1\n") {
		t.Error("install.yaml does not name the new image")
	}
	b, _ = os.ReadFile(filepath.Join(dir, "charts", "kseal", "Chart.yaml"))
	if !strings.Contains(string(b), "\nversion: 0.2.0-rc.1\n") || !strings.Contains(string(b), `appVersion: "v0.2.0-rc.1"`) {
		t.Errorf("Chart.yaml:\n%s", b)
	}
	for _, bad := range []Release{{"0.2.0", next.ImageRepo}, {"v0.2", next.ImageRepo}, {"latest", next.ImageRepo}, {"v0.2.0", "r/kseal-controller:v1"}, {"v0.2.0", ""}} {
		if err := Set(dir, bad); err == nil {
			t.Errorf("Set(%+v) accepted", bad)
		}
	}
}

// TestReleaseWorkflow: the release workflow passes actionlint (make
// actionlint, at the version pinned there), is started by a version tag, and builds with make
// release, checking the tag against release.env, rather than by steps of
// its own; it gives make release the signing key and publishes the
// signatures, checking the pushed image's with cosign.pub.
func TestReleaseWorkflow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds actionlint (-short)")
	}
	wf := filepath.Join(root, ".github", "workflows", "release.yml")
	cmd := exec.Command("make", "-s", "--no-print-directory", "actionlint")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
	b, err := os.ReadFile(wf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tags: ['v*.*.*']", "RELEASE_TAG: ${{ github.ref_name }}", "run: make release\n", "fetch-depth: 0", "git diff --exit-code plugins/kseal.yaml",
		"dist/SHA256SUMS.sig", "_oci.sig", "verify --key cosign.pub", "verify-blob --key cosign.pub", "sha256sum cosign.pub"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
	keyStepsOnly(t, b)
}

// keyStepsOnly: the signing key and its password reach one step, the one
// running make release-sign after make release and before publishing;
// make release, and every tool it starts, runs without them.
func keyStepsOnly(t *testing.T, workflow []byte) {
	t.Helper()
	type step struct {
		Name string            `json:"name"`
		Run  string            `json:"run"`
		Env  map[string]string `json:"env"`
	}
	var wf struct {
		Env  map[string]string `json:"env"`
		Jobs map[string]struct {
			Env   map[string]string `json:"env"`
			Steps []step            `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(workflow, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	secret := func(env map[string]string) []string {
		var names []string
		for k, v := range env {
			if strings.Contains(k, "COSIGN") || strings.Contains(v, "secrets.") {
				names = append(names, k)
			}
		}
		return names
	}
	if s := secret(wf.Env); len(s) > 0 {
		t.Errorf("release.yml: the workflow's env gives every step %v", s)
	}
	job, ok := wf.Jobs["release"]
	if !ok {
		t.Fatal("release.yml: no job release")
	}
	if s := secret(job.Env); len(s) > 0 {
		t.Errorf("release.yml: job release's env gives every step %v", s)
	}
	build, sign, publish := -1, -1, -1
	for i, st := range job.Steps {
		run := strings.TrimSpace(st.Run)
		switch {
		case run == "make release":
			build = i
			if st.Env["RELEASE_SIGN"] != "later" {
				t.Errorf("release.yml: step %q: RELEASE_SIGN is %q, not later", st.Name, st.Env["RELEASE_SIGN"])
			}
		case run == "make release-sign":
			sign = i
			if st.Env["COSIGN_KEY"] != "env://COSIGN_PRIVATE_KEY" || !strings.Contains(st.Env["COSIGN_PRIVATE_KEY"], "secrets.COSIGN_PRIVATE_KEY") ||
				!strings.Contains(st.Env["COSIGN_PASSWORD"], "secrets.COSIGN_PASSWORD") {
				t.Errorf("release.yml: step %q is not given the key: %v", st.Name, st.Env)
			}
			continue
		case strings.Contains(run, "gh release create"):
			publish = i
		}
		if s := secret(st.Env); len(s) > 0 {
			t.Errorf("release.yml: step %q has the signing key's %v in its env", st.Name, s)
		}
		if strings.Contains(run, "secrets.") {
			t.Errorf("release.yml: step %q names a secret in its script", st.Name)
		}
	}
	if build < 0 || sign < 0 || publish < 0 || !(build < sign && sign < publish) {
		t.Errorf("release.yml: steps make release (%d), make release-sign (%d), publish (%d): want them in that order", build, sign, publish)
	}
}

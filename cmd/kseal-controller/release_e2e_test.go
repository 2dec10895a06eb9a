package main_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"kseal.dev/kseal/internal/envtestutil"
)

// releaseEnv reads release.env: VERSION and IMAGE_REPO.
func releaseEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "release.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	if env["VERSION"] == "" || env["IMAGE_REPO"] == "" {
		t.Fatalf("release.env sets no VERSION or IMAGE_REPO: %v", env)
	}
	return env
}

// releaseFlags are the go flags and linker flags `make release` builds
// with (make release-flags prints them).
func releaseFlags(t *testing.T) (goflags, ldflags string) {
	t.Helper()
	cmd := exec.Command("make", "-s", "--no-print-directory", "release-flags")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make release-flags: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "RELEASE_GOFLAGS="); ok {
			goflags = v
		}
		if v, ok := strings.CutPrefix(l, "RELEASE_LDFLAGS="); ok {
			ldflags = v
		}
	}
	if goflags == "" || ldflags == "" {
		t.Fatalf("make release-flags printed %q", out)
	}
	return goflags, ldflags
}

// buildRelease builds kseal-controller for linux/goarch from the module in
// src into out, as `make release` does.
func buildRelease(t *testing.T, src, goarch, out string) {
	t.Helper()
	goflags, ldflags := releaseFlags(t)
	cmd := exec.Command("go", "build", "-ldflags="+ldflags, "-o", out, "./cmd/kseal-controller")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOFLAGS="+goflags)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (release flags) in %s: %v\n%s", src, err, b)
	}
}

var (
	releaseBinOnce sync.Once
	releaseBinPath string
)

// releaseBinary is kseal-controller for linux on this machine's
// architecture, built once per test binary with the release flags.
func releaseBinary(t *testing.T) string {
	t.Helper()
	releaseBinOnce.Do(func() {
		p := filepath.Join(bin, "release", "kseal-controller")
		buildRelease(t, root, runtime.GOARCH, p)
		releaseBinPath = p
	})
	if releaseBinPath == "" {
		t.Fatal("building the release binary failed in an earlier test")
	}
	return releaseBinPath
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// copySource copies the module's files (those git tracks or would track)
// to a new directory elsewhere, as a second checkout at another path.
func copySource(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("SKIP: the source is not a git checkout (%v): cannot copy it", err)
	}
	dst := filepath.Join(t.TempDir(), "elsewhere", "kseal")
	for _, name := range strings.Split(string(out), "\x00") {
		if name == "" {
			continue
		}
		src := filepath.Join(root, name)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestReleaseBuildReproducible builds the controller twice with the
// release flags, from this checkout and from a copy of it at another path
// (not a git repository), for linux on this machine's architecture (the
// binary TestImageRuns puts in the image), and wants identical bytes: no
// path, VCS stamp, build ID or time makes them differ. The version is
// stamped. It shares the build cache, so it proves what the flags
// guarantee; `make release-check` also compiles again from nothing.
func TestReleaseBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kseal-controller twice with the release flags (-short)")
	}
	a, b := releaseBinary(t), filepath.Join(t.TempDir(), "kseal-controller")
	buildRelease(t, copySource(t), runtime.GOARCH, b)
	if ha, hb := sha256File(t, a), sha256File(t, b); ha != hb {
		t.Fatalf("two release builds differ: %s (this checkout) and %s (a copy elsewhere)", ha, hb)
	}
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if v := releaseEnv(t)["VERSION"]; !bytes.Contains(data, []byte(v)) {
		t.Errorf("the release binary does not contain its version %s", v)
	}
	if bytes.Contains(data, []byte(root)) {
		t.Errorf("the release binary contains the checkout's path %s", root)
	}
}

// TestHelmInstallsBeside: helm package makes kseal-VERSION.tgz, the chart
// at release.env's version naming the release's image, and that archive
// installs into an API server that already holds config/install.yaml,
// twice (two namespaces, one watching only namespace web): the
// cluster-scoped objects are named per release, so nothing clashes, each
// binding names its own ServiceAccount, NOTES.txt gives the next steps, and
// uninstalling one release leaves the other installs whole.
func TestHelmInstallsBeside(t *testing.T) {
	envtestutil.Require(t, cluster)
	helm := tool(t, "KSEAL_HELM")
	rel := releaseEnv(t)
	env := &envtest.Environment{BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS")}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	r := &runner{t: t, kubeconfig: kubeconfig(t, env), dir: t.TempDir()}
	r.must(nil, helm, "package", chart, "-d", r.dir)
	pkg := filepath.Join(r.dir, "kseal-"+strings.TrimPrefix(rel["VERSION"], "v")+".tgz")
	if _, err := os.Stat(pkg); err != nil {
		t.Fatalf("helm package did not write the chart at release.env's version: %v", err)
	}

	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	r.must(nil, "kubectl", "create", "namespace", "web")
	for ns, values := range map[string][]string{"team-a": nil, "team-b": {"--set", "watchNamespaces={web}"}} {
		notes := r.must(nil, helm, append([]string{"install", "kseal", pkg, "--namespace", ns, "--create-namespace"}, values...)...)
		for _, want := range []string{
			"kseal-controller " + rel["VERSION"] + " is installed in namespace " + ns,
			"kseal fetch-recipients --controller-namespace " + ns + " -o cluster.pub",
			"kseal seal --recipients-file cluster.pub",
		} {
			if !strings.Contains(notes, want) {
				t.Errorf("helm install -n %s: NOTES lack %q:\n%s", ns, want, notes)
			}
		}
		if img := r.must(nil, "kubectl", "-n", ns, "get", "deployment", controllerSA, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); img != rel["IMAGE_REPO"]+":"+rel["VERSION"] {
			t.Errorf("-n %s: the chart runs image %s, want %s:%s", ns, img, rel["IMAGE_REPO"], rel["VERSION"])
		}
	}
	for _, c := range []struct{ kind, ns, name, saNS string }{
		{"clusterrolebinding", "", controllerSA, controllerNS},
		{"clusterrolebinding", "", controllerSA + ":team-a:kseal", "team-a"},
		{"rolebinding", "web", controllerSA + ":team-b:kseal", "team-b"},
	} {
		args := []string{"get", c.kind, c.name, "-o", "jsonpath={.roleRef.name} {.subjects[0].namespace}"}
		if c.ns != "" {
			args = append([]string{"-n", c.ns}, args...)
		}
		if got, want := r.must(nil, "kubectl", args...), c.name+" "+c.saNS; got != want {
			t.Errorf("%s %s: roleRef and subject namespace %q, want %q", c.kind, c.name, got, want)
		}
	}
	for _, c := range []struct{ as, verb, want string }{
		{"system:serviceaccount:team-b:kseal-controller", "list secrets -n web", "yes"},
		{"system:serviceaccount:team-b:kseal-controller", "list secrets -n default", "no"},
		{"system:serviceaccount:team-a:kseal-controller", "list secrets -n default", "yes"},
	} {
		out, _ := r.run(nil, "kubectl", append([]string{"auth", "can-i", "--as", c.as}, strings.Fields(c.verb)...)...)
		if strings.TrimSpace(out) != c.want {
			t.Errorf("%s can-i %s: %q, want %s", c.as, c.verb, strings.TrimSpace(out), c.want)
		}
	}

	r.must(nil, helm, "uninstall", "kseal", "--namespace", "team-a")
	for _, obj := range []string{"clusterrole/" + controllerSA, "clusterrolebinding/" + controllerSA, "clusterrole/" + controllerSA + ":team-b:kseal", "crd/sealedsecrets.kseal.dev"} {
		if _, err := r.run(nil, "kubectl", "get", obj); err != nil {
			t.Errorf("after uninstalling release team-a, %s is gone: %v", obj, err)
		}
	}
}

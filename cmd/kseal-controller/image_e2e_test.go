package main_test

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kseal.dev/kseal/internal/envtestutil"
)

// podman runs podman as TestImageRuns does: root, its own storage under
// the test's temporary directory, runc (crun refuses this machine's hybrid
// cgroups) and the containers.conf hack/tools.sh writes.
type podman struct {
	t                   *testing.T
	bin, runc, conf, st string
}

// needPodman returns podman, or skips (fails under CI=true) when podman,
// runc or root is missing.
func needPodman(t *testing.T) *podman {
	t.Helper()
	p := &podman{t: t, bin: os.Getenv("KSEAL_PODMAN"), runc: os.Getenv("KSEAL_RUNC"), conf: os.Getenv("KSEAL_CONTAINERS_CONF")}
	var err error
	switch {
	case p.bin == "" || p.runc == "" || p.conf == "":
		err = errors.New("KSEAL_PODMAN, KSEAL_RUNC and KSEAL_CONTAINERS_CONF are not set: run make test (hack/tools.sh installs Debian's podman and runc as root)")
	case os.Geteuid() != 0:
		err = errors.New("podman runs the image as root here")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the image test needs a container runtime: %v", err)
		}
		t.Skipf("SKIP: the image test needs a container runtime: %v", err)
	}
	st, err := os.MkdirTemp("", "kseal-podman-")
	if err != nil {
		t.Fatal(err)
	}
	p.st = st
	t.Cleanup(p.cleanup)
	return p
}

// cleanup removes podman's storage once no podman process uses it. After a
// container exits, conmon runs "podman container cleanup" on its own time,
// and that process may still be writing under the storage root when the
// test returns: removing the tree then fails with "directory not empty"
// (t.TempDir's cleanup did, once, in CI). So remove every container, wait
// for the processes that name the storage in their command line, and
// retry the removal for a while before reporting what was left.
func (p *podman) cleanup() {
	_, _ = p.run("rm", "--all", "--force", "--time", "0")
	deadline := time.Now().Add(30 * time.Second)
	for len(processesNaming(p.st)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	var err error
	for range 20 {
		if err = os.RemoveAll(p.st); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.t.Logf("podman's storage %s is left behind: %v (still running: %v)", p.st, err, processesNaming(p.st))
}

// processesNaming lists the processes whose command line holds s.
func processesNaming(s string) []string {
	dirs, _ := os.ReadDir("/proc")
	var pids []string
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil || d.Name() == strconv.Itoa(os.Getpid()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), s) {
			pids = append(pids, d.Name())
		}
	}
	return pids
}

func (p *podman) cmd(args ...string) *exec.Cmd {
	base := []string{"--root", filepath.Join(p.st, "root"), "--runroot", filepath.Join(p.st, "run"),
		"--storage-driver", "vfs", "--runtime", p.runc, "--tmpdir", filepath.Join(p.st, "tmp")}
	cmd := exec.Command(p.bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf, "TMPDIR="+p.st)
	return cmd
}

func (p *podman) run(args ...string) (string, error) {
	out, err := p.cmd(args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func (p *podman) must(args ...string) string {
	p.t.Helper()
	out, err := p.run(args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// buildImage writes the controller image for this machine's architecture
// with hack/release's image writer, as make release does for both, and
// returns the OCI archive.
func buildImage(t *testing.T, repo, version, revision string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "kseal-controller_oci.tar")
	cmd := exec.Command("go", "run", "./image", "-repo", repo, "-version", version, "-revision", revision, "-epoch", "1700000000",
		"-bin", "linux/"+runtime.GOARCH+"="+releaseBinary(t), "-o", out)
	cmd.Dir = filepath.Join(root, "hack", "release")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/release/image: %v\n%s", err, b)
	}
	return out
}

// deployment returns config/install.yaml's controller container: its args,
// ports by name and probe paths.
func deployment(t *testing.T) (args []string, ports map[string]int, probes map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "config", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := objects(t, "config/install.yaml", b)["Deployment/"+controllerNS+"/"+controllerSA]
	if d == nil {
		t.Fatal("config/install.yaml has no controller Deployment")
	}
	c := container(t, d)
	for _, a := range c["args"].([]any) {
		args = append(args, a.(string))
	}
	ports = map[string]int{}
	for _, p := range c["ports"].([]any) {
		m := p.(map[string]any)
		switch n := m["containerPort"].(type) { // YAML decodes through JSON: float64
		case float64:
			ports[m["name"].(string)] = int(n)
		case int64:
			ports[m["name"].(string)] = int(n)
		default:
			t.Fatalf("containerPort %v (%T)", n, n)
		}
	}
	probes = map[string]string{}
	for _, k := range []string{"livenessProbe", "readinessProbe"} {
		path, _, _ := unstructured.NestedString(c, k, "httpGet", "path")
		port, _, _ := unstructured.NestedString(c, k, "httpGet", "port")
		probes[k] = fmt.Sprintf("%d%s", ports[port], path)
	}
	return args, ports, probes
}

// TestImageRuns loads the controller image into podman and runs it the
// way the Deployment in config/install.yaml runs it in a Pod: its
// arguments, the in-cluster environment (KUBERNETES_SERVICE_HOST/PORT, the
// ServiceAccount's token, CA and namespace mounted read-only at
// /var/run/secrets/kubernetes.io/serviceaccount), a read-only root file
// system with no tmpfs, every capability dropped, the image's own user,
// and the host network (no kubeconfig anywhere). The probes the Deployment
// declares answer on the ports it declares, the metrics name the release,
// the process runs as 65532, the image has no shell and carries its OCI
// labels, and it unseals a SealedSecret. Writing the image twice gives the
// same bytes.
func TestImageRuns(t *testing.T) {
	envtestutil.Require(t, cluster)
	pm := needPodman(t)
	rel := releaseEnv(t)
	args, ports, probes := deployment(t)
	for name, port := range ports {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("port %d (%s), which the Deployment declares, is taken on this host: %v", port, name, err)
			}
			t.Skipf("SKIP: port %d (%s), which the Deployment declares, is taken on this host: %v", port, name, err)
		}
		l.Close()
	}

	const revision = "0123456789abcdef0123456789abcdef01234567"
	archive := buildImage(t, rel["IMAGE_REPO"], rel["VERSION"], revision)
	if a, b := sha256File(t, archive), sha256File(t, buildImage(t, rel["IMAGE_REPO"], rel["VERSION"], revision)); a != b {
		t.Errorf("two image builds from the same binary differ: %s, %s", a, b)
	}
	pm.must("load", "-q", "-i", archive)
	image := rel["IMAGE_REPO"] + ":" + rel["VERSION"] // the archive names it
	if out := pm.must("images", "--format", "{{.Repository}}:{{.Tag}}"); out != image {
		t.Fatalf("podman images: %q, want the one image %s", out, image)
	}
	for k, want := range map[string]string{
		"{{.Config.User}}": "65532:65532",
		`{{index .Config.Labels "org.opencontainers.image.version"}}`:  rel["VERSION"],
		`{{index .Config.Labels "org.opencontainers.image.revision"}}`: revision,
		`{{index .Config.Labels "org.opencontainers.image.source"}}`:   "https://github.com/kseal-dev/kseal",
		"{{.Architecture}}": runtime.GOARCH,
	} {
		if got := pm.must("image", "inspect", "--format", k, image); got != want {
			t.Errorf("image %s is %q, want %q", k, got, want)
		}
	}
	if out, err := pm.run("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image, "-c", "true"); err == nil {
		t.Errorf("the image has a shell:\n%s", out)
	}

	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	r.must(nil, "kubectl", "create", "namespace", "image")
	sa := filepath.Join(t.TempDir(), "serviceaccount")
	if err := os.Mkdir(sa, 0o755); err != nil {
		t.Fatal(err)
	}
	// A projected service-account volume's files are 0644, readable by
	// the container's non-root user.
	for name, b := range map[string][]byte{"token": []byte(r.saToken()), "ca.crt": cluster.Config.CAData, "namespace": []byte(controllerNS)} {
		if err := os.WriteFile(filepath.Join(sa, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(apiServer(cluster))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("kseal-image-test-%d", os.Getpid())
	pm.must(append([]string{"run", "-d", "--name", name, "--network", "host",
		"--read-only", "--read-only-tmpfs=false", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"-e", "KUBERNETES_SERVICE_HOST=" + u.Hostname(), "-e", "KUBERNETES_SERVICE_PORT=" + u.Port(),
		"-v", sa + ":/var/run/secrets/kubernetes.io/serviceaccount:ro", image}, args...)...)
	defer func() {
		logs, _ := pm.run("logs", name)
		_, _ = pm.run("rm", "-f", "-t", "10", name)
		noForbidden(t, logs)
		if strings.Contains(logs, "image-t0k3n") {
			t.Error("the controller log holds the plaintext")
		}
		if t.Failed() {
			t.Logf("controller log:\n%s", logs)
		}
	}()

	for k, hp := range probes {
		poll(t, k+" on "+hp, func() error {
			_, err := httpGet(t.Context(), "http://127.0.0.1:"+hp)
			return err
		})
	}
	metrics, err := httpGet(t.Context(), fmt.Sprintf("http://127.0.0.1:%d/metrics", ports["metrics"]))
	if err != nil {
		t.Fatal(err)
	}
	if want := `kseal_build_info{commit="unknown",format="2",goversion="` + runtime.Version() + `",version="` + rel["VERSION"] + `"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s", want)
	}
	pid := pm.must("inspect", "--format", "{{.State.Pid}}", name)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if (strings.HasPrefix(l, "Uid:") || strings.HasPrefix(l, "Gid:")) && strings.Join(strings.Fields(l)[1:], " ") != "65532 65532 65532 65532" {
			t.Errorf("the controller runs as %s, want 65532", l)
		}
		if strings.HasPrefix(l, "CapEff:") && strings.Fields(l)[1] != "0000000000000000" {
			t.Errorf("the controller has capabilities: %s", l)
		}
	}
	if out, err := pm.run("exec", name, "/kseal-controller", "--version"); err != nil || !strings.HasPrefix(out, "kseal-controller "+rel["VERSION"]+" ") {
		t.Errorf("kseal-controller --version in the image: %v %q", err, out)
	}

	r.sealClusterSecret("Secret unsealed by the controller image",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: from-image, namespace: image}\nstringData: {token: image-t0k3n}\n",
		"image", "from-image", "token", "image-t0k3n")
}

// TestPodmanCleanupWaits: the storage is removed even when a process that
// names it (as conmon's "podman container cleanup" does) writes into it
// after the test has returned.
func TestPodmanCleanupWaits(t *testing.T) {
	st, err := os.MkdirTemp("", "kseal-podman-")
	if err != nil {
		t.Fatal(err)
	}
	late := exec.Command("sh", "-c", `sleep 1; mkdir -p "$1/root/vfs-layers" && touch "$1/root/vfs-layers/layers.lock"`, "sh", st)
	if err := late.Start(); err != nil {
		t.Fatal(err)
	}
	(&podman{t: t, bin: "false", st: st}).cleanup()
	_ = late.Wait()
	if _, err := os.Stat(st); !os.IsNotExist(err) {
		t.Errorf("podman's storage is still there: %v", err)
		os.RemoveAll(st)
	}
}

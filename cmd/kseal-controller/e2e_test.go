package main_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"kseal.dev/kseal/internal/envtestutil"
)

var (
	cluster *envtest.Environment
	bin     string // directory with the built kseal and kseal-controller
	root    = envtestutil.RepoRoot()
)

// TestMain starts a real API server (none under -short) and builds both
// binaries; the tests then use them the way a user does, through kubectl and
// a kubeconfig.
func TestMain(m *testing.M) {
	cluster, _ = envtestutil.Start(m)
	dir, err := os.MkdirTemp("", "kseal-e2e-")
	if err != nil {
		panic(err)
	}
	bin = dir
	out, err := exec.Command("go", "build", "-o", dir+"/", "kseal.dev/kseal/cmd/kseal", "kseal.dev/kseal/cmd/kseal-controller").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building binaries: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if cluster != nil {
		_ = cluster.Stop()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// kubeconfig writes an admin kubeconfig for env.
func kubeconfig(t *testing.T, env *envtest.Environment) string {
	t.Helper()
	u, err := env.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := u.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type runner struct {
	t          *testing.T
	kubeconfig string
	dir        string
	// controllerKubeconfig, when set, is what startController runs the
	// controller with (the kseal-controller ServiceAccount's token).
	controllerKubeconfig string
}

// run executes a command with KUBECONFIG set and returns its stdout.
func (r *runner) run(stdin []byte, name string, args ...string) (string, error) {
	path := name
	switch name {
	case "kseal", "kseal-controller":
		path = filepath.Join(bin, name)
	case "kubectl":
		path = filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.kubeconfig, "KSEAL_NO_PROGRESS=1")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), err
}

func (r *runner) must(stdin []byte, name string, args ...string) string {
	r.t.Helper()
	out, err := r.run(stdin, name, args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// handedOut is every address freeAddr gave in this test process.
var handedOut sync.Map

// freeAddr is a local address free now, and never one it gave before: the
// kernel may give the port just released to the next to ask, and two
// addresses of one process then collide. (A controller was once started
// with its metrics and health servers on the same port, and stopped at
// once.)
func freeAddr(t *testing.T) string {
	t.Helper()
	var held []net.Listener // given before: kept open so as not to come again
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		if _, given := handedOut.LoadOrStore(addr, true); !given {
			l.Close()
			return addr
		}
		held = append(held, l)
	}
}

// controllerProc is a running kseal-controller binary.
type controllerProc struct {
	cmd        *exec.Cmd
	recipients string
	metrics    string
	log        *syncBuffer
}

// syncBuffer is a process's output, read by the test while the process
// still writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (r *runner) startController(extra ...string) *controllerProc {
	r.t.Helper()
	p := &controllerProc{recipients: freeAddr(r.t), metrics: freeAddr(r.t), log: &syncBuffer{}}
	args := append([]string{"--namespace=kseal-system", "--log-format=text",
		"--recipients-bind-address=" + p.recipients, "--metrics-bind-address=" + p.metrics, "--health-probe-bind-address=" + freeAddr(r.t)}, extra...)
	p.cmd = exec.Command(filepath.Join(bin, "kseal-controller"), args...)
	kc := r.kubeconfig
	if r.controllerKubeconfig != "" {
		kc = r.controllerKubeconfig
	}
	p.cmd.Env = append(os.Environ(), "KUBECONFIG="+kc)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	// A failure shows the controller's own account (a port another
	// process took, a start that failed), not only what the test waited
	// for.
	r.t.Cleanup(func() {
		p.stop()
		if r.t.Failed() {
			r.t.Logf("kseal-controller %s log (last 4 KiB):\n%s", strings.Join(args, " "), tail(p.log.String(), 4096))
		}
	})
	return p
}

func (p *controllerProc) stop() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	}
}

// poll retries f until it succeeds or 60 s pass.
func poll(t *testing.T, what string, f func() error) {
	t.Helper()
	envtestutil.Eventually(t, what, 60*time.Second, 100*time.Millisecond, f)
}

func httpGet(ctx context.Context, url string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

// sealClusterSecret waits for the cluster recipient, seals secret (a Secret
// manifest) to it, applies the SealedSecret and waits until the Secret
// ns/name holds want under key.
func (r *runner) sealClusterSecret(what, secret, ns, name, key, want string) {
	t := r.t
	t.Helper()
	var pub string
	poll(t, "cluster recipient", func() (err error) {
		pub, err = r.run(nil, "kseal", "fetch-recipients")
		return err
	})
	if err := os.WriteFile(filepath.Join(r.dir, "cluster.pub"), []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, name+".yaml"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	sealed := r.must(nil, "kseal", "seal", "--recipients-file", "cluster.pub", "-f", name+".yaml")
	r.must([]byte(sealed), "kubectl", "apply", "-f", "-")
	poll(t, what, func() error {
		out, err := r.run(nil, "kubectl", "-n", ns, "get", "secret", name, "-o", "jsonpath={.data."+key+"}")
		if err != nil {
			return err
		}
		if b, _ := base64.StdEncoding.DecodeString(out); string(b) != want {
			return fmt.Errorf("%s is %q", key, b)
		}
		return nil
	})
}

package envtestutil

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Cluster is an etcd and a kube-apiserver started directly rather than
// through envtest, so that the API server can be stopped and started again
// on the same port, with the same etcd, serving certificate and admin
// token: chaos tests restart it under a running controller. Clients
// authenticate with a bearer token (group system:masters) and skip TLS
// verification: it is a throwaway local API server.
type Cluster struct {
	Config     *rest.Config
	Kubeconfig string // path of an admin kubeconfig

	dir     string
	assets  string
	port    int
	token   string
	etcd    *exec.Cmd
	api     *exec.Cmd
	apiArgs []string
}

// StartCluster starts etcd and kube-apiserver with the kseal CRDs installed
// and stops them when the test ends. Without the binaries it skips the test,
// and under CI=true fails it.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	assets, err := Assets()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("SKIP (no API server binaries): %v", err)
	}
	c := &Cluster{dir: t.TempDir(), assets: assets}
	t.Cleanup(c.stop)
	etcdPort, peerPort, apiPort := freePort(t), freePort(t), freePort(t)
	c.port = apiPort
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	c.token = hex.EncodeToString(tok)
	if err := os.WriteFile(filepath.Join(c.dir, "tokens.csv"), []byte(c.token+",admin,admin,system:masters\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	saKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(c.dir, "sa.key"), saKey, 0o600); err != nil {
		t.Fatal(err)
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	c.etcd = exec.Command(filepath.Join(assets, "etcd"),
		"--data-dir="+filepath.Join(c.dir, "etcd"), "--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL, "--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync=true")
	c.etcd.Stdout, c.etcd.Stderr = logFile(t, c.dir, "etcd.log"), logFile(t, c.dir, "etcd.log")
	if err := c.etcd.Start(); err != nil {
		t.Fatal(err)
	}
	c.apiArgs = []string{
		"--etcd-servers=" + etcdURL, "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + filepath.Join(c.dir, "certs"), "--token-auth-file=" + filepath.Join(c.dir, "tokens.csv"),
		"--authorization-mode=RBAC", "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
		"--disable-admission-plugins=ServiceAccount",
		fmt.Sprintf("--service-account-issuer=https://127.0.0.1:%d/", apiPort),
		"--service-account-key-file=" + filepath.Join(c.dir, "sa.key"), "--service-account-signing-key-file=" + filepath.Join(c.dir, "sa.key"),
	}
	if err := c.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	c.Config = &rest.Config{Host: fmt.Sprintf("https://127.0.0.1:%d", apiPort), BearerToken: c.token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 500, Burst: 1000}
	c.Kubeconfig = filepath.Join(c.dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
`, c.Config.Host, c.token)
	if err := os.WriteFile(c.Kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(c.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(RepoRoot(), "config", "crd", "bases")}, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("installing CRDs: %v", err)
	}
	return c
}

// StartAPIServer starts kube-apiserver (again) and waits until it is ready.
func (c *Cluster) StartAPIServer() error {
	c.api = exec.Command(filepath.Join(c.assets, "kube-apiserver"), c.apiArgs...)
	f, err := os.OpenFile(filepath.Join(c.dir, "apiserver.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	c.api.Stdout, c.api.Stderr = f, f
	if err := c.api.Start(); err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d/readyz", c.port), nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after 90 s (log: %s)", filepath.Join(c.dir, "apiserver.log"))
}

// StopAPIServer stops kube-apiserver gracefully (SIGTERM), leaving etcd.
func (c *Cluster) StopAPIServer() error {
	if c.api == nil || c.api.Process == nil {
		return nil
	}
	_ = c.api.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.api.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = c.api.Process.Kill()
		<-done
	}
	c.api = nil
	return nil
}

// RestartAPIServer stops kube-apiserver and starts it again on the same
// port with the same etcd.
func (c *Cluster) RestartAPIServer() error {
	if err := c.StopAPIServer(); err != nil {
		return err
	}
	return c.StartAPIServer()
}

func (c *Cluster) stop() {
	_ = c.StopAPIServer()
	if c.etcd != nil && c.etcd.Process != nil {
		_ = c.etcd.Process.Signal(syscall.SIGTERM)
		_ = c.etcd.Wait()
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func logFile(t testing.TB, dir, name string) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

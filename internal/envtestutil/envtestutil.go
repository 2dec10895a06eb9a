// Package envtestutil starts the real kube-apiserver and etcd that
// hack/tools.sh builds, for tests. Under -short it starts nothing and the
// tests that need them skip, each saying so; otherwise a missing binary
// fails the test run instead of letting it print ok.
package envtestutil

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot returns the repository root.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Assets returns the directory holding kube-apiserver, etcd and kubectl, or
// an error that says how to get them.
func Assets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		return "", fmt.Errorf("KUBEBUILDER_ASSETS is not set: run `make test` (it builds kube-apiserver, etcd and kubectl with hack/tools.sh)")
	}
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("%s missing in KUBEBUILDER_ASSETS=%s: run hack/tools.sh", b, dir)
		}
	}
	return dir, nil
}

// Start starts an API server with the kseal CRDs, from a TestMain. Under
// -short it starts nothing and returns nil: the package's unit tests run,
// and those that need the server skip (Require). Otherwise a missing
// binary exits the test binary with an error saying how to get it.
func Start(m *testing.M) (*envtest.Environment, *rest.Config) {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		fmt.Fprintln(os.Stderr, "SKIP: -short: the tests that need kube-apiserver and etcd skip (run make test)")
		return nil, nil
	}
	assets, err := Assets()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v (or run the unit tests alone with go test -short)\n", err)
		os.Exit(1)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: starting kube-apiserver and etcd: %v\n", err)
		os.Exit(1)
	}
	return env, cfg
}

// Require skips t, loudly, when Start started no API server (-short).
func Require(t testing.TB, env *envtest.Environment) {
	t.Helper()
	if env == nil {
		t.Skip("needs kube-apiserver and etcd, which -short does not start (run make test)")
	}
}

// Tool returns the path of a tool hack/tools.sh built and exported in env
// (KSEAL_KUSTOMIZE, KSEAL_HELM, ...). When it is not set, a -short run
// skips t and a full run fails it: a full run never passes by skipping.
func Tool(t testing.TB, env string) string {
	t.Helper()
	p := os.Getenv(env)
	switch {
	case p != "":
		return p
	case testing.Short() && os.Getenv("CI") != "true":
		t.Skipf("needs %s, which only -short runs may lack (run make test)", env)
	default:
		t.Fatalf("%s is not set: run make test (it builds the tools with hack/tools.sh), or go test -short", env)
	}
	return ""
}

// Eventually polls cond every interval until it returns nil, and fails the
// test with cond's last error once timeout has passed. Tests wait for
// behaviour this way, never with bare sleeps.
func Eventually(t testing.TB, what string, timeout, interval time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(interval)
	}
	t.Fatalf("timed out waiting for %s: %v", what, err)
}

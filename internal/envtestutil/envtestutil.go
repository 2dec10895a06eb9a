// Package envtestutil starts the real kube-apiserver and etcd that
// hack/tools.sh builds, for tests. Under CI=true a missing binary fails the
// test run instead of skipping it.
package envtestutil

import (
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

// Start starts an API server with the kseal CRDs. It returns nil (and the
// caller should skip) only outside CI when the binaries are absent; under
// CI=true it exits the test binary with an error instead.
func Start(m *testing.M) (*envtest.Environment, *rest.Config) {
	assets, err := Assets()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "skipping API server tests: %v\n", err)
		return nil, nil
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

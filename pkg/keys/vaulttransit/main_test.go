package vaulttransit

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"kseal.dev/kseal/internal/envtestutil"
	"kseal.dev/kseal/internal/vaulttest"
)

var (
	vault   *vaulttest.Server
	kubeEnv *envtest.Environment
	kubeCfg *rest.Config
)

const mount = "transit"

// TestMain starts the real Vault dev server and, for the Kubernetes auth
// tests, the real API server.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	vault = vaulttest.Main()
	if vault == nil {
		return m.Run()
	}
	defer vault.Close()
	if err := vault.EnableTransit(mount, "orders", "payments"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kubeEnv, kubeCfg = envtestutil.Start(m)
	if kubeEnv == nil {
		// The render script writes roles even without an API server.
		if _, err := vault.Vault("", "auth", "enable", "kubernetes"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if kubeEnv != nil {
		defer kubeEnv.Stop()
		if err := vault.EnableKubernetesAuth(context.Background(), kubeCfg, "kubernetes"); err != nil {
			fmt.Fprintln(os.Stderr, "configuring Kubernetes auth:", err)
			return 1
		}
	}
	return m.Run()
}

func requireKube(t *testing.T) {
	t.Helper()
	vaulttest.Require(t, vault)
	if kubeEnv == nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no API server under CI=true")
		}
		t.Skip("no API server")
	}
}

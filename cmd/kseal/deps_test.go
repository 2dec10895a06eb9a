package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoClientsetScheme: kseal links none of client-go's typed clientsets.
// Their scheme package registers every API group of Kubernetes when the
// binary starts, which every kseal run (decrypt included) paid for: about
// 14 ms of package initialization and 12 MiB of peak memory on the
// 1,000-object decrypt of bench/cli-speed.sh. kseal reads a ConfigMap and
// lists Secrets (internal/cli/cluster.go) and the Vault provider asks for
// ServiceAccount tokens (pkg/keys/vaulttransit/kubeauth.go), each with a
// REST client for the core group's v1.
func TestNoClientsetScheme(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "k8s.io/client-go/kubernetes/scheme" || strings.HasPrefix(p, "k8s.io/client-go/kubernetes/typed/") {
			t.Errorf("kseal links %s, which registers every Kubernetes API group at start-up", p)
		}
	}
}

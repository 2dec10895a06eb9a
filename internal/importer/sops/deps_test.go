package sops_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestControllerDoesNotLinkSops: sops brings every key service it supports
// (PGP, Azure Key Vault, Vault, Huawei Cloud KMS, …); the importers are for
// the CLI and none of it may reach kseal-controller, which runs in the
// cluster with the cluster's keys.
func TestControllerDoesNotLinkSops(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "kseal.dev/kseal/cmd/kseal-controller").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "getsops/sops") || strings.HasPrefix(p, "kseal.dev/kseal/internal/importer") || strings.HasPrefix(p, "kseal.dev/kseal/internal/cli") {
			t.Errorf("kseal-controller links %s", p)
		}
	}
	// The CLI does: the test would pass vacuously if the package moved.
	out, err = exec.Command("go", "list", "-deps", "kseal.dev/kseal/cmd/kseal").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "github.com/getsops/sops/v3/decrypt") {
		t.Fatalf("kseal does not link sops' decrypt package (%v)", err)
	}
}

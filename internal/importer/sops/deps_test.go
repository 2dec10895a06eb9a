package sops_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestKsealDoesNotLinkSops: kseal import sops runs the user's sops binary.
// The sops module brings every key service it supports (PGP, Azure Key
// Vault, Vault, Huawei Cloud KMS, …), about seventy modules that made every
// kseal command slower to start; neither binary may link it again. The
// importers stay out of kseal-controller, which runs in the cluster with
// the cluster's keys.
func TestKsealDoesNotLinkSops(t *testing.T) {
	for _, bin := range []string{"kseal.dev/kseal/cmd/kseal", "kseal.dev/kseal/cmd/kseal-controller"} {
		out, err := exec.Command("go", "list", "-deps", bin).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		ctrl := strings.HasSuffix(bin, "-controller")
		importer := false
		for _, p := range strings.Fields(string(out)) {
			if strings.Contains(p, "getsops/sops") {
				t.Errorf("%s links %s", bin, p)
			}
			if p == "kseal.dev/kseal/internal/importer/sops" {
				importer = true
			}
			if ctrl && (strings.HasPrefix(p, "kseal.dev/kseal/internal/importer") || strings.HasPrefix(p, "kseal.dev/kseal/internal/cli")) {
				t.Errorf("kseal-controller links %s", p)
			}
		}
		// The CLI has the importer: the test would pass vacuously if the
		// package moved.
		if !ctrl && !importer {
			t.Errorf("%s does not link the sops importer", bin)
		}
	}
}

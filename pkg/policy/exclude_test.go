package policy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/policy"
)

func TestExclude(t *testing.T) {
	dir := t.TempDir()
	y := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nexclude: [\"charts/*/templates/**\", \"**/patches/**\"]\n"
	p, err := policy.Parse([]byte(y), filepath.Join(dir, "kseal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file string
		want bool
	}{
		{"chart template", "charts/web/templates/secret.yaml", true},
		{"nested chart template", "charts/web/templates/sub/x.yaml", true},
		{"chart values", "charts/web/values.yaml", false},
		{"patch at any depth", "apps/orders/overlays/prod/patches/db.yaml", true},
		{"top-level patches", "patches/db.yaml", true},
		{"a manifest", "apps/orders/db.yaml", false},
		{"outside the policy's directory", "../charts/web/templates/secret.yaml", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, got := p.Excluded(filepath.Join(dir, tc.file)); got != tc.want {
				t.Errorf("Excluded(%s) = %v, want %v", tc.file, got, tc.want)
			}
		})
	}
}

func TestExcludeValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		glob string
	}{
		{"bad glob", `charts/[`},
		{"empty", ``},
		{"absolute", `/etc/**`},
		{"above the policy", `../x/**`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := "apiVersion: kseal.dev/v1alpha1\nkind: Policy\nexclude:\n  - \"" + tc.glob + "\"\n"
			_, err := policy.Parse([]byte(y), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), "p.yaml:4: invalid exclude glob") {
				t.Fatalf("got %v, want p.yaml:4: invalid exclude glob", err)
			}
		})
	}
}

package envtestutil_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/envtestutil"
)

// childEnv makes this test binary act as a package whose TestMain starts
// the API server, without the binaries.
const childEnv = "KSEAL_ENVTESTUTIL_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		env, _ := envtestutil.Start(m)
		if env != nil {
			panic("started an API server without binaries")
		}
		os.Exit(0) // what "ok" would be
	}
	os.Exit(m.Run())
}

// TestStartWithoutBinaries: a full run without kube-apiserver and etcd
// fails instead of printing ok; a -short run says it skips them and passes.
func TestStartWithoutBinaries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		fails bool
		says  string
	}{
		{"full run", nil, true, "FAIL: KUBEBUILDER_ASSETS is not set"},
		{"short run", []string{"-test.short"}, false, "SKIP: -short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$"}, tc.args...)...)
			cmd.Env = append(os.Environ(), childEnv+"=1", "KUBEBUILDER_ASSETS=", "CI=")
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.fails {
				t.Errorf("failed: %v, want %v (%v)\n%s", failed, tc.fails, err, out)
			}
			if !strings.Contains(string(out), tc.says) {
				t.Errorf("output does not say %q:\n%s", tc.says, out)
			}
		})
	}
}

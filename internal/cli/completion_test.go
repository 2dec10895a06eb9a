package cli

import (
	"strings"
	"testing"
)

// TestFlagValueCompletion: --scope and the format -o complete their values
// through cobra's hidden __complete command (what the shell scripts of
// kseal completion call); an -o naming a file does not offer formats.
//
// Guard: registerCompletions.
func TestFlagValueCompletion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		mustNot []string
	}{
		{"seal --scope", []string{"seal", "--scope", ""}, []string{"strict\t", "namespace\t", "shared\t", "cluster\t", ":4"}, nil},
		{"encrypt --scope prefix", []string{"encrypt", "--scope", "s"}, []string{"strict\t", "shared\t"}, nil},
		{"seal -o", []string{"seal", "-o", ""}, []string{"yaml", "json", ":4"}, []string{"text"}},
		{"decrypt --output", []string{"decrypt", "--output", ""}, []string{"yaml", "json"}, nil},
		{"verify -o", []string{"verify", "-o", ""}, []string{"text", "json"}, []string{"yaml"}},
		{"policy check -o", []string{"policy", "check", "-o", ""}, []string{"text", "json"}, []string{"yaml"}},
		{"keygen -o is a file", []string{"keygen", "-o", ""}, nil, []string{"yaml", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runMain(append([]string{"__complete"}, tc.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("completions lack %q:\n%s", w, out)
				}
			}
			for _, w := range tc.mustNot {
				if strings.Contains(out, w) {
					t.Errorf("completions have %q:\n%s", w, out)
				}
			}
		})
	}
}

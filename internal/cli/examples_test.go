package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasExample walks the command tree: every command's
// --help shows examples, and every entry of examples names a command.
//
// Guard: applyExamples.
func TestEveryCommandHasExample(t *testing.T) {
	e := &env{ctx: context.Background(), getenv: func(string) string { return "" }}
	root := newRoot(e)
	seen := map[string]bool{}
	walkCommands(root, func(c *cobra.Command) {
		key := commandKey(c)
		seen[key] = true
		if c.Hidden {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("kseal %s: no Example in --help", key)
		}
	})
	for key := range examples {
		if !seen[key] {
			t.Errorf("examples[%q]: no such command", key)
		}
	}
	// And --help prints them.
	code, out, _ := runMain("policy", "check", "--help")
	if code != ExitOK || !strings.Contains(out, "Examples:\n  kseal policy check") {
		t.Fatalf("policy check --help: exit %d:\n%s", code, out)
	}
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/policy"
)

func newPolicyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Check, explain and render the kseal.yaml policy"}
	cmd.AddCommand(newPolicyCheckCmd(e), newPolicyExplainCmd(e), newPolicyRenderCmd(e))
	return cmd
}

// loadPolicy loads --policy, or kseal.yaml found upward from start (the
// only one between start and the repository root; see policy.FindOne).
func loadPolicy(path, start string) (*policy.Policy, error) {
	return loadPolicyWith(policy.FindOne, path, start)
}

func loadPolicyWith(find func(string) (string, error), path, start string) (*policy.Policy, error) {
	if path == "" {
		var err error
		if path, err = find(start); err != nil {
			return nil, err
		}
		if path == "" {
			return nil, hintError{fmt.Errorf("no %s in %s or its parents", policy.FileName, start), "see docs/policy.md"}
		}
	}
	return policy.Load(path)
}

// finding is one policy violation at file:line.
type finding struct {
	file string
	line int
	msg  string
}

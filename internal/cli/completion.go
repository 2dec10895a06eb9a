package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
)

// Shell completion of flag values. Registered on the flags as the commands
// define them, by name and meaning, so that a command gaining --scope or
// the format -o completes without more code here.

// scopeCompletions are the values --scope takes, each with what it binds.
var scopeCompletions = []string{
	string(crypto.ScopeStrict) + "\tbound to namespace and name (default)",
	string(crypto.ScopeNamespace) + "\tbound to the namespace: any name in it",
	string(crypto.ScopeShared) + "\tbound to the name: any namespace the policy allows",
	string(crypto.ScopeCluster) + "\tbound to neither",
}

// formatCompletions are the values of -o where it names a format of
// standard output (seal's yaml or json; verify's and policy check's
// text or json).
func formatCompletions(usage string) []string {
	var out []string
	for _, f := range []string{"text", "yaml", "json"} {
		if strings.Contains(usage, f) {
			out = append(out, f)
		}
	}
	return out
}

// registerCompletions adds value completion to every command's --scope and
// format -o. An -o that names a file (keygen, fetch-recipients) completes
// file names as cobra does by default.
func registerCompletions(root *cobra.Command) {
	walkCommands(root, func(c *cobra.Command) {
		if f := c.Flags().Lookup("scope"); f != nil {
			_ = c.RegisterFlagCompletionFunc("scope", fixedCompletion(scopeCompletions))
		}
		if f := c.Flags().Lookup("output"); f != nil && strings.HasPrefix(f.Usage, "format of") {
			_ = c.RegisterFlagCompletionFunc("output", fixedCompletion(formatCompletions(f.Usage)))
		}
	})
}

func fixedCompletion(values []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

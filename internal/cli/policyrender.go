package cli

import (
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/keys"
)

func newPolicyRenderCmd(e *env) *cobra.Command {
	var path, admin string
	var set []string
	var targets []string
	long := "render prints, as JSON, the key service's own access policy for the policy's keys of that\nprovider. Targets:\n"
	for _, r := range keys.Renderers() {
		targets = append(targets, r.Target)
		long += "\n" + r.Target + ": " + r.Summary + "\n"
		for _, o := range r.Options {
			long += "  --set " + o + "\n"
		}
	}
	cmd := &cobra.Command{
		Use:       "render " + strings.Join(targets, "|"),
		Short:     "Emit the key services' access policies (KMS key policies, IAM bindings, …) from the policy, as JSON",
		Long:      long,
		Args:      cobra.ExactArgs(1),
		ValidArgs: targets,
	}
	cmd.Flags().StringVar(&path, "policy", "", "policy file (default: kseal.yaml found upward)")
	cmd.Flags().StringArrayVar(&set, "set", nil, "renderer option KEY=VALUE (repeatable; see the targets above)")
	cmd.Flags().StringVar(&admin, "admin", "", "AWS principal keeping key administration (same as --set admin=ARN)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		r, ok := keys.LookupRenderer(args[0])
		if !ok {
			return usagef("render %q: want one of %s", args[0], strings.Join(targets, ", "))
		}
		opts := map[string]string{}
		if admin != "" {
			opts["admin"] = admin
		}
		for _, kv := range set {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return usagef("--set %q: want KEY=VALUE", kv)
			}
			opts[k] = v
		}
		p, err := loadPolicy(path, ".")
		if err != nil {
			return err
		}
		v, err := r.Renderer.Render(p.Plan(), opts)
		if err != nil {
			return usagef("render %s: %v", args[0], err)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return cmd
}

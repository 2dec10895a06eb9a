package cli

import (
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/keys"
)

// policyRenderOptions are the flags of policy render.
type policyRenderOptions struct {
	policy string
	admin  string
	set    []string
}

func newPolicyRenderCmd(e *env) *cobra.Command {
	o := &policyRenderOptions{}
	targets := renderTargets()
	long := "render prints, as JSON, the key service's own access policy for the policy's keys of that\nprovider. Targets:\n"
	for _, r := range keys.Renderers() {
		long += "\n" + r.Target + ": " + r.Summary + "\n"
		for _, opt := range r.Options {
			long += "  --set " + opt + "\n"
		}
	}
	cmd := &cobra.Command{
		Use:       "render " + strings.Join(targets, "|"),
		Short:     "Emit the key services' access policies (KMS key policies, IAM bindings, …) from the policy, as JSON",
		Long:      long,
		Args:      cobra.ExactArgs(1),
		ValidArgs: targets,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicyRender(e, o, args[0])
		},
	}
	cmd.Flags().StringVar(&o.policy, "policy", "", "policy file (default: kseal.yaml found upward)")
	cmd.Flags().StringArrayVar(&o.set, "set", nil, "renderer option KEY=VALUE (repeatable; see the targets above)")
	cmd.Flags().StringVar(&o.admin, "admin", "", "AWS principal keeping key administration (same as --set admin=ARN)")
	return cmd
}

// renderTargets names the renderers' targets, in the order they are listed.
func renderTargets() []string {
	var targets []string
	for _, r := range keys.Renderers() {
		targets = append(targets, r.Target)
	}
	return targets
}

// runPolicyRender prints, as JSON, the access policy of the key service
// target for the policy's keys.
func runPolicyRender(e *env, o *policyRenderOptions, target string) error {
	r, ok := keys.LookupRenderer(target)
	if !ok {
		return usagef("render %q: want one of %s", target, strings.Join(renderTargets(), ", "))
	}
	opts := map[string]string{}
	if o.admin != "" {
		opts["admin"] = o.admin
	}
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usagef("--set %q: want KEY=VALUE", kv)
		}
		opts[k] = v
	}
	p, err := loadPolicy(o.policy, ".")
	if err != nil {
		return err
	}
	v, err := r.Renderer.Render(p.Plan(), opts)
	if err != nil {
		return usagef("render %s: %v", target, err)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

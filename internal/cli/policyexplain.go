package cli

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

// policyExplainOptions are the flags of policy explain.
type policyExplainOptions struct {
	policy string
}

func newPolicyExplainCmd(e *env) *cobra.Command {
	o := &policyExplainOptions{}
	cmd := &cobra.Command{
		Use:   "explain FILE | NAMESPACE/NAME",
		Short: "Say which service and keys govern a file or an object, and who can read it where",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicyExplain(e, o, args[0])
		},
	}
	cmd.Flags().StringVar(&o.policy, "policy", "", "policy file (default: kseal.yaml found upward)")
	return cmd
}

// runPolicyExplain explains arg: a file (what governs it) or NAMESPACE/NAME
// (where the controller unseals it).
func runPolicyExplain(e *env, o *policyExplainOptions, arg string) error {
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		return explainFile(e.stdout, o.policy, arg)
	}
	ns, name, ok := strings.Cut(arg, "/")
	if !ok {
		return usagef("%q: want a file or NAMESPACE/NAME", arg)
	}
	p, err := loadPolicy(o.policy, ".")
	if err != nil {
		return err
	}
	explainObject(e.stdout, p, ns, name)
	return nil
}

// explainFile says which service or shared entry of the policy (path, or
// the one found from file) governs file, with its keys and readers.
func explainFile(w io.Writer, path, file string) error {
	p, err := loadPolicy(path, filepath.Dir(file))
	if err != nil {
		return err
	}
	rule, err := p.RuleFor(file)
	if err != nil {
		return err
	}
	if rule == nil {
		return fmt.Errorf("%s: not under the paths of any service or shared entry in %s", file, p.Path)
	}
	fmt.Fprintf(w, "%s is governed by %s in %s\n", file, rule, p.Path)
	explainKeys(w, p, rule.Keys)
	if rule.Shared != nil {
		fmt.Fprintf(w, "shared secret %q, sealed with scope shared (bound to the name %q, not to a namespace)\n", rule.Shared.Name, rule.Shared.Name)
		fmt.Fprintf(w, "the controller unseals it only as %q, only with the keys above, only in namespaces %s of:\n", rule.Shared.Name, strings.Join(p.SharedNamespaces(rule.Shared), ", "))
		for _, sn := range rule.Shared.Services {
			explainService(w, p, sn)
		}
		return nil
	}
	explainService(w, p, rule.Service)
	return nil
}

// explainObject says, per scope, whether and with which keys the controller
// unseals the object ns/name.
func explainObject(w io.Writer, p *policy.Policy, ns, name string) {
	opens := false
	for _, scope := range []crypto.Scope{crypto.ScopeStrict, crypto.ScopeShared, crypto.ScopeCluster} {
		label := string(scope)
		if scope == crypto.ScopeStrict {
			label = "strict or namespace"
		}
		g, err := p.GrantFor(ns, name, scope)
		if err != nil {
			fmt.Fprintf(w, "%s/%s sealed with scope %s: refused (PolicyDenied): %v\n", ns, name, label, err)
			continue
		}
		opens = true
		fmt.Fprintf(w, "%s/%s sealed with scope %s: unsealed under %s\n", ns, name, label, g.Rule)
		explainKeys(w, p, g.Keys)
		if g.Shared != nil {
			fmt.Fprintf(w, "  shared secret %q opens only under this name, in namespaces %s\n", g.Shared.Name, strings.Join(p.SharedNamespaces(g.Shared), ", "))
		}
	}
	if opens {
		if sn := p.ServiceOwning(ns); sn != "" {
			explainService(w, p, sn)
		}
	}
}

func explainKeys(w interface{ Write([]byte) (int, error) }, p *policy.Policy, names []string) {
	fmt.Fprintln(w, "keys:")
	for _, kn := range names {
		cur, acc := p.KeyIDs(kn)
		k := p.Keys[kn]
		kind := "cluster " + k.Cluster
		if r := k.Parsed(); r != nil {
			kind = keys.Describe(r)
		}
		fmt.Fprintf(w, "  %s: %s, key ID %s", kn, kind, cur)
		if len(acc) > 1 {
			fmt.Fprintf(w, " (%d older keys still open)", len(acc)-1)
		}
		fmt.Fprintln(w)
	}
}

func explainService(w interface{ Write([]byte) (int, error) }, p *policy.Policy, sn string) {
	s := p.Services[sn]
	fmt.Fprintf(w, "service %s:\n  namespaces: %s\n", sn, strings.Join(s.Namespaces, ", "))
	if len(s.ServiceAccounts) > 0 {
		fmt.Fprintf(w, "  in the cluster, readable by service accounts: %s (Role kseal-read-NAME)\n", strings.Join(s.ServiceAccounts, ", "))
	}
	if len(s.Writers) > 0 {
		fmt.Fprintf(w, "  may seal (outside the cluster): %s\n", strings.Join(s.Writers, ", "))
	}
	if len(s.Readers) > 0 {
		fmt.Fprintf(w, "  may decrypt (outside the cluster): %s\n", strings.Join(s.Readers, ", "))
	}
	for _, pn := range slices.Sorted(maps.Keys(s.Providers)) {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(s.Providers[pn])) {
			kv = append(kv, k+"="+s.Providers[pn][k])
		}
		fmt.Fprintf(w, "  %s settings: %s\n", pn, strings.Join(kv, ", "))
	}
}

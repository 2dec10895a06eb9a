package cli

import (
	"errors"
	"fmt"
	"sync"

	"k8s.io/client-go/tools/clientcmd"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// errNoNamespace is the error for an object without a namespace where one
// is needed (by the scope, or by a policy, which grants namespaces).
var errNoNamespace = errors.New("metadata.namespace is missing; add it or pass -n")

// namespaceFlag is -n: the namespace of objects that have none. Without
// it, the current kubeconfig context's namespace is used when a kubeconfig
// exists (client-go's loading rules: $KUBECONFIG, else ~/.kube/config), as
// kubectl and kubeseal do ("default" when the context names none).
type namespaceFlag struct {
	flag string

	once    sync.Once
	fromCfg string
	context string
}

// kubeconfigNamespace is the current context's namespace, "" when there
// is no kubeconfig or no current context. The kubeconfig is only read, and
// only once per run; no cluster is contacted.
func (n *namespaceFlag) kubeconfigNamespace(e *env) string {
	n.once.Do(func() {
		raw, err := clientcmd.NewDefaultClientConfigLoadingRules().Load()
		if err != nil || raw == nil || raw.CurrentContext == "" {
			return
		}
		ctx, ok := raw.Contexts[raw.CurrentContext]
		if !ok {
			return
		}
		n.context, n.fromCfg = raw.CurrentContext, ctx.Namespace
		if n.fromCfg == "" {
			n.fromCfg = "default"
		}
		fmt.Fprintf(e.stderr, "kseal: objects without a namespace go to %q (kubeconfig context %q); pass -n to choose\n", n.fromCfg, n.context)
	})
	return n.fromCfg
}

// apply gives d the namespace it should have: its own, which -n must not
// contradict; else -n; else the kubeconfig context's.
func (n *namespaceFlag) apply(e *env, d *manifest.Doc) error {
	own := d.Node().GetNamespace()
	switch {
	case own != "" && n.flag != "" && own != n.flag:
		return fmt.Errorf("metadata.namespace is %q but -n says %q: drop -n or change the file", own, n.flag)
	case own != "":
		return nil
	case n.flag != "":
		return d.SetNamespace(n.flag)
	}
	return d.SetNamespace(n.kubeconfigNamespace(e))
}

// checkNamespace turns a scope's complaint about a missing namespace into
// errNoNamespace.
func checkNamespace(scope crypto.Scope, t crypto.Target) error {
	if t.Namespace == "" && scope.Check(t) != nil {
		return fmt.Errorf("%w (scope %s binds the namespace)", errNoNamespace, scope)
	}
	return nil
}

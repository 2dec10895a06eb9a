package crypto

import (
	"fmt"

	"kseal.dev/kseal/pkg/keys"
)

// Scope says what a sealed object is bound to.
type Scope string

// The scopes. Strict is the default.
const (
	// ScopeStrict binds to namespace and name: the object opens only under
	// the namespace and name it was sealed for.
	ScopeStrict Scope = "strict"
	// ScopeNamespace binds to the namespace: the object may be renamed.
	ScopeNamespace Scope = "namespace"
	// ScopeShared binds to the name only: a secret shared on purpose by
	// several services opens in any namespace (the policy says which) but
	// only under its own name.
	ScopeShared Scope = "shared"
	// ScopeCluster binds to nothing: the object may be renamed and moved.
	ScopeCluster Scope = "cluster"
)

// Scopes lists the valid scopes.
var Scopes = []Scope{ScopeStrict, ScopeNamespace, ScopeShared, ScopeCluster}

// ParseScope parses a scope name; the empty string is ScopeStrict.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case "":
		return ScopeStrict, nil
	case ScopeStrict, ScopeNamespace, ScopeShared, ScopeCluster:
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q (want strict, namespace, shared or cluster)", s)
}

// Target is the object a sealed value belongs to: its namespace and name
// (bound as the scope says) and the template of the Secret it stands for
// (always bound).
type Target struct {
	Namespace string
	Name      string
	Template  Template
}

func (t Target) String() string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "/" + t.Name
}

// bound returns the namespace and name that s binds for t.
func (s Scope) bound(t Target) (ns, name string) {
	switch s {
	case ScopeStrict:
		return t.Namespace, t.Name
	case ScopeNamespace:
		return t.Namespace, ""
	case ScopeShared:
		return "", t.Name
	}
	return "", ""
}

// Check reports whether t has what s needs to bind.
func (s Scope) Check(t Target) error {
	ns, name := s.bound(t)
	if (s == ScopeStrict || s == ScopeNamespace) && ns == "" {
		return fmt.Errorf("scope %s needs metadata.namespace (set it, pass --namespace, or use --scope cluster)", s)
	}
	if (s == ScopeStrict || s == ScopeShared) && name == "" {
		return fmt.Errorf("scope %s needs metadata.name", s)
	}
	return nil
}

// Binding keys passed to key services as encryption context / AAD.
const (
	BindingScope     = "kseal-scope"
	BindingNamespace = "kseal-namespace"
	BindingName      = "kseal-name"
)

// Binding returns the key-service binding of t under s: the scope kind and
// the namespace and name it binds. It is recomputed from the object at open
// time, never read from the envelope.
func (s Scope) Binding(t Target) keys.Binding {
	ns, name := s.bound(t)
	b := keys.Binding{BindingScope: string(s)}
	if ns != "" {
		b[BindingNamespace] = ns
	}
	if name != "" {
		b[BindingName] = name
	}
	return b
}

// Describe says in words what s binds t to, for errors and inspect.
func (s Scope) Describe(t Target) string {
	switch s {
	case ScopeStrict:
		return fmt.Sprintf("scope strict binds it to %s", t)
	case ScopeNamespace:
		return fmt.Sprintf("scope namespace binds it to namespace %q", t.Namespace)
	case ScopeShared:
		return fmt.Sprintf("scope shared binds it to the name %q in any namespace", t.Name)
	}
	return "scope cluster binds it to nothing"
}

package policy

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/bmatcuk/doublestar/v4"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// Rule is what the policy says about one file: the service (or shared
// secret) whose path covers it and the keys its secrets are sealed to.
type Rule struct {
	Service string  // set for a service path
	Shared  *Shared // set for a shared path
	Keys    []string
	at      string
}

func (r *Rule) String() string {
	if r.Shared != nil {
		return fmt.Sprintf("shared secret %q (services %v)", r.Shared.Name, r.Shared.Services)
	}
	return fmt.Sprintf("service %q", r.Service)
}

// RuleFor returns the rule whose paths cover file, or nil.
func (p *Policy) RuleFor(file string) (*Rule, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(p.Dir)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		return nil, nil
	}
	rel = filepath.ToSlash(rel)
	for i, sh := range p.Shared {
		for _, g := range sh.Paths {
			if ok, _ := doublestar.Match(g, rel); ok {
				return &Rule{Shared: sh, Keys: p.sharedKeys(sh), at: fmt.Sprintf("shared.%d", i)}, nil
			}
		}
	}
	for _, name := range sortedKeys(p.Services) {
		for _, g := range p.Services[name].Paths {
			if ok, _ := doublestar.Match(g, rel); ok {
				return &Rule{Service: name, Keys: p.Services[name].Keys, at: "services." + name}, nil
			}
		}
	}
	return nil, nil
}

func (p *Policy) sharedKeys(sh *Shared) []string {
	if len(sh.Keys) > 0 {
		return sh.Keys
	}
	var ks []string
	for _, s := range sh.Services {
		if svc := p.Services[s]; svc != nil {
			ks = append(ks, svc.Keys...)
		}
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

// sharedNamespaces are the namespaces a shared secret may live in.
func (p *Policy) sharedNamespaces(sh *Shared) []string {
	var out []string
	for _, s := range sh.Services {
		if svc := p.Services[s]; svc != nil {
			out = append(out, svc.Namespaces...)
		}
	}
	return out
}

// CheckObject says whether an object named name in namespace ns may be
// sealed under rule, naming the rule when not.
func (p *Policy) CheckObject(r *Rule, ns, name string) error {
	if r.Shared != nil {
		if name != r.Shared.Name {
			return p.errAt(r.at, "path is reserved for shared secret %q, not %q", r.Shared.Name, name)
		}
		if ns != "" && !slices.Contains(p.sharedNamespaces(r.Shared), ns) {
			return p.errAt(r.at, "shared secret %q is allowed in the namespaces of %v, not %q", name, r.Shared.Services, ns)
		}
		return nil
	}
	svc := p.Services[r.Service]
	if slices.Contains(svc.Namespaces, ns) {
		return nil
	}
	for _, sh := range p.Shared {
		if sh.Name == name && slices.Contains(sh.Services, r.Service) && slices.Contains(p.sharedNamespaces(sh), ns) {
			return nil
		}
	}
	return p.errAt(r.at, "service %q owns namespaces %v, not %q (add it there, or a shared entry for %q)", r.Service, svc.Namespaces, ns, name)
}

// Recipients returns the recipients to seal to for key names: the current
// recipient of a cluster key, the key itself otherwise.
func (p *Policy) Recipients(names []string) ([]keys.Recipient, error) {
	var out []keys.Recipient
	for _, n := range names {
		k := p.Keys[n]
		r := k.parsed
		if k.Cluster != "" {
			c := p.Clusters[k.Cluster]
			if len(c.recipients) == 0 {
				return nil, fmt.Errorf("%s: cluster %q has no recipients", p.Path, k.Cluster)
			}
			r = c.recipients[0]
		}
		out = append(out, r)
	}
	return out, nil
}

// KeyIDs returns the key IDs that count as key name: every active key of a
// cluster (the first is current), the single ID of any other key.
func (p *Policy) KeyIDs(name string) (current string, accepted []string) {
	k := p.Keys[name]
	if k == nil {
		return "", nil
	}
	if k.Cluster != "" {
		for _, r := range p.Clusters[k.Cluster].recipients {
			accepted = append(accepted, r.KeyID())
		}
	} else if k.parsed != nil {
		accepted = []string{k.parsed.KeyID()}
	}
	if len(accepted) > 0 {
		current = accepted[0]
	}
	return current, accepted
}

// KeyRef is one acceptable wrap for a key: its stanza type ("" when the
// provider does not say) and key ID.
type KeyRef struct{ Type, KeyID string }

// KeyRefs is KeyIDs with stanza types: the wraps that count as key name.
func (p *Policy) KeyRefs(name string) []KeyRef {
	k := p.Keys[name]
	if k == nil {
		return nil
	}
	var rs []keys.Recipient
	if k.Cluster != "" {
		rs = p.Clusters[k.Cluster].recipients
	} else if k.parsed != nil {
		rs = []keys.Recipient{k.parsed}
	}
	var out []KeyRef
	for _, r := range rs {
		ref := KeyRef{KeyID: r.KeyID()}
		if t, ok := r.(keys.TypedRecipient); ok {
			ref.Type = t.StanzaType()
		}
		out = append(out, ref)
	}
	return out
}

// Matches reports whether a wrap of type typ for keyID is this reference.
func (r KeyRef) Matches(typ, keyID string) bool {
	return r.KeyID == keyID && (r.Type == "" || r.Type == typ)
}

// Grant is what the policy allows in the cluster for one object: the keys
// that may open it and the rule that grants them.
type Grant struct {
	Keys    []string // key names
	Rule    string   // "service orders" or "shared stripe-webhook"
	Service string   // the service owning the namespace (its template rules apply)
	Shared  *Shared  // set when the object is a shared entry's secret
}

// GrantFor returns what the policy grants an object named name in namespace
// ns sealed with scope, or an error saying why it grants nothing.
//
// An object bound to its namespace (scope strict or namespace) opens with the
// keys of the service owning ns, and only those. An object bound to its name
// only (scope shared) opens in ns only if a shared entry names it and one of
// the entry's services owns ns, and then only with that entry's keys. Scope
// cluster binds no name, so its ciphertext could be any other cluster-scope
// object renamed: under a policy it opens nowhere.
func (p *Policy) GrantFor(ns, name string, scope crypto.Scope) (*Grant, error) {
	owner := p.ServiceOwning(ns)
	switch scope {
	case crypto.ScopeStrict, crypto.ScopeNamespace:
		if owner == "" {
			return nil, fmt.Errorf("no service owns namespace %q", ns)
		}
		return &Grant{Keys: sorted(p.Services[owner].Keys), Rule: "service " + owner, Service: owner}, nil
	case crypto.ScopeShared:
		sh := p.sharedNamed(name)
		if sh == nil {
			return nil, fmt.Errorf("scope shared: no shared entry names %q (an object not bound to a namespace opens only as a shared entry's secret)", name)
		}
		if owner == "" || !slices.Contains(sh.Services, owner) {
			return nil, fmt.Errorf("shared secret %q is allowed in the namespaces of %v, not %q", name, sh.Services, ns)
		}
		return &Grant{Keys: sorted(p.sharedKeys(sh)), Rule: "shared " + sh.Name, Service: owner, Shared: sh}, nil
	case crypto.ScopeCluster:
		return nil, fmt.Errorf("scope cluster binds no name, so under a policy it opens nowhere (a shared entry's secret is sealed with scope shared)")
	}
	return nil, fmt.Errorf("unknown scope %q", scope)
}

// sharedNamed returns the shared entry for the secret name, or nil.
func (p *Policy) sharedNamed(name string) *Shared {
	for _, sh := range p.Shared {
		if sh.Name == name {
			return sh
		}
	}
	return nil
}

// SharedNamespaces are the namespaces a shared secret may be unsealed in.
func (p *Policy) SharedNamespaces(sh *Shared) []string { return p.sharedNamespaces(sh) }

// ServiceOwning returns the service that owns ns, or "".
func (p *Policy) ServiceOwning(ns string) string {
	for _, sn := range sortedKeys(p.Services) {
		if slices.Contains(p.Services[sn].Namespaces, ns) {
			return sn
		}
	}
	return ""
}

// Line returns the line of a dotted location ("services.orders"), or 0.
func (p *Policy) Line(at string) int { return p.lines[at] }

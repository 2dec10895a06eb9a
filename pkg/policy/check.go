package policy

import (
	"fmt"
	"maps"
	"slices"

	"kseal.dev/kseal/pkg/crypto"
)

// Sealed is a sealed object as the policy sees it: where it lies, what it
// is bound to and whom it is sealed to; never a value. `kseal policy check`
// builds one for each sealed object it reads.
type Sealed struct {
	// File is the file the object is in, named in the fixes a finding
	// suggests; the rule is the one RuleFor gave for it.
	File      string
	Namespace string
	Name      string
	Envelope  crypto.Envelope
}

// Finding is one way a sealed object breaks the policy: the name of the
// check that found it and what it says.
type Finding struct {
	Check   string
	Message string
}

// sealedCheck is one rule a sealed object is held to: a name (a finding's
// Check), and a function that returns what the object breaks (nil when
// nothing).
type sealedCheck struct {
	name  string
	check func(p *Policy, rule *Rule, o *Sealed) []string
}

// sealedChecks are the rules CheckSealed applies, in the order their
// findings are reported. Each is a pure function of the policy, the rule
// and the object.
var sealedChecks = []sealedCheck{
	{"namespace", checkNamespace},
	{"shared-scope", checkSharedScope},
	{"unbound-scope", checkUnboundScope},
	{"recipients", checkRecipients},
}

// checkCovered names the check that stands alone: an object outside every
// service's and shared entry's paths has no rule to be held to.
const checkCovered = "covered"

// CheckSealed returns every way the sealed object o breaks p under rule,
// the rule RuleFor gave o.File (nil: no service or shared entry covers the
// file). It reads nothing: the caller parsed the file.
func (p *Policy) CheckSealed(rule *Rule, o *Sealed) []Finding {
	if rule == nil {
		return []Finding{{checkCovered, fmt.Sprintf("not under the paths of any service or shared entry in %s", p.Path)}}
	}
	var out []Finding
	for _, c := range sealedChecks {
		for _, msg := range c.check(p, rule, o) {
			out = append(out, Finding{c.name, msg})
		}
	}
	return out
}

// checkNamespace: the object's namespace is one the rule's service owns, or
// the object is a shared entry's secret in a namespace the entry allows.
func checkNamespace(p *Policy, rule *Rule, o *Sealed) []string {
	if err := p.CheckObject(rule, o.Namespace, o.Name); err != nil {
		return []string{err.Error()}
	}
	return nil
}

// checkSharedScope: a shared entry's secret is sealed with scope shared,
// the only scope the controller opens it with.
func checkSharedScope(_ *Policy, rule *Rule, o *Sealed) []string {
	if rule.Shared != nil && o.Envelope.Scope != crypto.ScopeShared {
		return []string{fmt.Sprintf("shared secret sealed with scope %s; the controller opens a shared secret only with scope shared (reseal with --scope shared)", o.Envelope.Scope)}
	}
	return nil
}

// checkUnboundScope: a service's secret is bound to its namespace; scopes
// shared and cluster are not, and open only as a shared entry's secret.
func checkUnboundScope(_ *Policy, rule *Rule, o *Sealed) []string {
	if rule.Shared == nil && (o.Envelope.Scope == crypto.ScopeShared || o.Envelope.Scope == crypto.ScopeCluster) {
		return []string{fmt.Sprintf("sealed with scope %s, which is not bound to a namespace; under a policy it opens only as a shared entry's secret (scope shared, named by a shared entry)", o.Envelope.Scope)}
	}
	return nil
}

// checkRecipients: every section is sealed to each of the rule's keys and
// to nothing else, section by section (missing keys, then extra wraps).
func checkRecipients(p *Policy, rule *Rule, o *Sealed) []string {
	var out []string
	for i, sec := range o.Envelope.Sections {
		// A wrap counts for a key only when both its type and its key
		// ID are the key's: a key ID alone is just a label.
		matched := make([]bool, len(sec.Recipients))
		for _, kn := range rule.Keys {
			ok := false
			for _, ref := range p.KeyRefs(kn) {
				for j, w := range sec.Recipients {
					if ref.Matches(w.Type, w.KeyID) {
						ok, matched[j] = true, true
					}
				}
			}
			if !ok {
				out = append(out, fmt.Sprintf("section %d: missing recipient for key %q (%s); fix with kseal reencrypt -i %s", i, kn, rule, o.File))
			}
		}
		extra := map[string]bool{}
		for j, w := range sec.Recipients {
			if !matched[j] {
				extra[w.Type+" "+w.KeyID] = true
			}
		}
		for _, x := range slices.Sorted(maps.Keys(extra)) {
			out = append(out, fmt.Sprintf("section %d: extra recipient %s, not a key of %s (a retired cluster key, or another service's key); fix with kseal reencrypt -i %s", i, x, rule, o.File))
		}
	}
	return out
}

package keys

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// BlindOpeners is for a renderer whose key service cannot condition unwrap
// on a wrap's binding (Cloud KMS IAM, Vault ACLs: they see the key, not the
// namespace or name a wrap is bound to). There a principal allowed to
// unwrap with a key opens every object sealed to it, whatever grant it got
// the key for: a key named by one service's grant and by a shared entry's
// grant would hand the entry's other services the first service's secrets.
//
// unwrapper names the principal that unwraps for a service at the key
// service (the service itself when it has readers or a role of its own,
// one name for every service the controller opens with its own login),
// or "" when there is none; services with the same unwrapper count as one.
//
// It returns, per name of a plan key that mine accepts, the unwrappers that
// may be allowed to unwrap with it: those of the services of every grant of
// the key, so whoever holds a key is entitled to every object the policy
// seals to it. Sealing is not restricted this way (it needs every key of a
// grant and reveals nothing). A plan in which a service with an unwrapper
// would be left none of a grant's keys of mine's kind is refused, naming
// the grant, the keys and the fix: that unwrapper could not open the
// grant's objects at all. who names the key service's access control in
// errors ("Vault ACLs").
func (p *Plan) BlindOpeners(who string, mine func(Recipient) bool, unwrapper func(PlanService) string) (map[string][]string, error) {
	type grantKeys struct {
		grant PlanGrant
		keys  []string
	}
	unwrappers := func(g PlanGrant) []string {
		var out []string
		for _, s := range g.Services {
			out = append(out, unwrapper(s))
		}
		return out
	}
	openers := map[string][]string{}
	grants := map[string]*grantKeys{} // by rule
	var rules []string
	holders := map[string][]string{} // key → rules naming it
	for _, k := range p.Keys {
		if !mine(k.Recipient) {
			continue
		}
		var every []string
		for i, g := range k.Grants {
			us := unwrappers(g)
			if i == 0 {
				every = SortedSet(slices.DeleteFunc(us, func(u string) bool { return u == "" }))
			} else {
				every = slices.DeleteFunc(every, func(u string) bool { return !slices.Contains(us, u) })
			}
			if grants[g.Rule] == nil {
				grants[g.Rule] = &grantKeys{grant: g}
				rules = append(rules, g.Rule)
			}
			grants[g.Rule].keys = append(grants[g.Rule].keys, k.Name)
			holders[k.Name] = append(holders[k.Name], g.Rule)
		}
		openers[k.Name] = every
	}
	slices.Sort(rules)
	var errs []error
	for _, rule := range rules {
		gk := grants[rule]
		for _, s := range gk.grant.Services {
			u := unwrapper(s)
			if u == "" || slices.ContainsFunc(gk.keys, func(k string) bool { return slices.Contains(openers[k], u) }) {
				continue
			}
			var why []string
			for _, k := range gk.keys {
				var other []string
				for _, r := range holders[k] {
					if g := grants[r].grant; !slices.Contains(unwrappers(g), u) {
						other = append(other, describeGrant(g))
					}
				}
				why = append(why, fmt.Sprintf("key %q also opens the secrets of %s", k, strings.Join(other, ", ")))
			}
			subject := fmt.Sprintf("service %q", s.Name)
			if gk.grant.Shared != "" {
				subject = fmt.Sprintf("%s: %s", describeGrant(gk.grant), subject)
			}
			errs = append(errs, fmt.Errorf("%s may be given none of its keys to unwrap with (%s), since %s cannot see which secret a wrap is bound to; %s",
				subject, strings.Join(why, "; "), who, fixGrant(gk.grant, s.Name)))
		}
	}
	return openers, errors.Join(errs...)
}

func describeGrant(g PlanGrant) string {
	if g.Shared != "" {
		var names []string
		for _, s := range g.Services {
			names = append(names, s.Name)
		}
		return fmt.Sprintf("shared secret %q (services %s)", g.Shared, strings.Join(names, ", "))
	}
	return fmt.Sprintf("service %q", strings.TrimPrefix(g.Rule, "service "))
}

func fixGrant(g PlanGrant, svc string) string {
	if g.Shared != "" {
		return fmt.Sprintf("give shared entry %q keys: of its own (keys no service lists), or add to them a key of service %q that no other service lists", g.Shared, svc)
	}
	return fmt.Sprintf("give service %q a key of its own (one no other service lists)", svc)
}

package policy

import (
	"maps"
	"slices"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// Plan returns the policy as key services' access control needs it (see
// keys.Plan): per named key that is not a cluster key, the grants of the
// services that use it and of the shared secrets sealed to it, with the
// binding each grant allows; and the clusters' controller identities.
// `kseal policy render TARGET` hands it to the provider's keys.Renderer.
func (p *Policy) Plan() *keys.Plan {
	plan := &keys.Plan{Controllers: p.controllerIdentities()}
	for _, kn := range sortedKeys(p.Keys) {
		k := p.Keys[kn]
		if k.parsed == nil {
			continue
		}
		pk := keys.PlanKey{Name: kn, Recipient: k.parsed}
		for _, sn := range sortedKeys(p.Services) {
			svc := p.Services[sn]
			if !slices.Contains(svc.Keys, kn) {
				continue
			}
			pk.Grants = append(pk.Grants, keys.PlanGrant{
				Rule:     "service " + sn,
				Services: []keys.PlanService{p.planService(sn)},
				Binding:  map[string][]string{crypto.BindingNamespace: sorted(svc.Namespaces)},
			})
		}
		for _, sh := range p.Shared {
			if !slices.Contains(p.sharedKeys(sh), kn) {
				continue
			}
			g := keys.PlanGrant{
				Rule:    "shared " + sh.Name,
				Shared:  sh.Name,
				Binding: map[string][]string{crypto.BindingScope: {string(crypto.ScopeShared)}, crypto.BindingName: {sh.Name}},
			}
			for _, sn := range sh.Services {
				if p.Services[sn] != nil {
					g.Services = append(g.Services, p.planService(sn))
				}
			}
			pk.Grants = append(pk.Grants, g)
		}
		plan.Keys = append(plan.Keys, pk)
	}
	return plan
}

func (p *Policy) planService(sn string) keys.PlanService {
	s := p.Services[sn]
	return keys.PlanService{
		Name:            sn,
		Namespaces:      sorted(s.Namespaces),
		ServiceAccounts: sorted(s.ServiceAccounts),
		Writers:         sorted(s.Writers),
		Readers:         sorted(s.Readers),
		Settings:        settings(s.Providers),
	}
}

// controllerIdentities are the clusters' controller identities at key
// services: identities, awsRole and gcpServiceAccount (as a
// serviceAccount: member) of every cluster, sorted.
func (p *Policy) controllerIdentities() []string {
	var out []string
	for _, cn := range sortedKeys(p.Clusters) {
		c := p.Clusters[cn]
		out = append(out, c.Identities...)
	}
	return sorted(out)
}

func settings(m map[string]map[string]string) map[string]map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]map[string]string, len(m))
	for k, v := range m {
		out[k] = maps.Clone(v)
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

package vaulttransit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// renderService is a service as rendering needs it.
type renderService struct {
	Name            string
	Namespaces      []string
	ServiceAccounts []string
	Role            string // the service's Vault role (kseal.yaml roles.vault), or ""
	Keys            []Key  // the Vault keys it may open (own and shared grants)
}

// renderOptions are `kseal policy render vault --set` options.
type renderOptions struct {
	AuthMount      string        // authMount, default kubernetes
	Audience       string        // audience, default vault
	TTL            time.Duration // ttl, default 10m
	ControllerRole string        // controllerRole, default kseal-controller
	ControllerSA   string        // controllerServiceAccount NS/NAME, default kseal-system/kseal-controller
	PolicyPrefix   string        // policyPrefix, default kseal-
}

func parseRenderOptions(opts map[string]string) (renderOptions, error) {
	o := renderOptions{AuthMount: "kubernetes", Audience: DefaultAudience, TTL: 10 * time.Minute,
		ControllerRole: "kseal-controller", ControllerSA: "kseal-system/kseal-controller", PolicyPrefix: "kseal-"}
	for k, v := range opts {
		switch k {
		case "authMount":
			o.AuthMount = strings.Trim(v, "/")
		case "audience":
			o.Audience = v
		case "ttl":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return o, fmt.Errorf("ttl %q: want a duration such as 10m", v)
			}
			o.TTL = d
		case "controllerRole":
			o.ControllerRole = v
		case "controllerServiceAccount":
			if ns, n, ok := strings.Cut(v, "/"); !ok || ns == "" || n == "" {
				return o, fmt.Errorf("controllerServiceAccount %q: want NAMESPACE/NAME", v)
			}
			o.ControllerSA = v
		case "policyPrefix":
			o.PolicyPrefix = v
		default:
			return o, fmt.Errorf("unknown option %q (known: authMount, audience, ttl, controllerRole, controllerServiceAccount, policyPrefix)", k)
		}
	}
	if !validSegments(o.AuthMount) {
		return o, fmt.Errorf("authMount %q: want a mount path", o.AuthMount)
	}
	return o, nil
}

// VaultPolicy is a Vault ACL policy in its JSON form, which `vault policy
// write NAME FILE` accepts as it accepts HCL.
type VaultPolicy struct {
	Path map[string]VaultPath `json:"path"`
}

// VaultPath grants capabilities on one API path.
type VaultPath struct {
	Capabilities []string `json:"capabilities"`
}

// VaultRole is a Kubernetes auth role, as `vault write
// auth/MOUNT/role/NAME @FILE` takes it.
type VaultRole struct {
	BoundServiceAccountNames      []string `json:"bound_service_account_names"`
	BoundServiceAccountNamespaces []string `json:"bound_service_account_namespaces"`
	TokenPolicies                 []string `json:"token_policies"`
	Audience                      string   `json:"audience,omitempty"`
	TokenTTL                      string   `json:"token_ttl"`
	TokenMaxTTL                   string   `json:"token_max_ttl"`
}

// VaultServer is what to write to one Vault server: policies by name and
// auth roles by their API path (auth/kubernetes/role/NAME).
type VaultServer struct {
	Policies map[string]VaultPolicy `json:"policies"`
	Roles    map[string]VaultRole   `json:"roles"`
}

// render builds, per Vault server, per service: a policy that may encrypt
// to its keys (PREFIXSERVICE-seal, for whoever seals: CI, developers), and,
// for a service with a Vault role, a policy that may decrypt with them
// (PREFIXSERVICE) attached to that role, which binds the service's
// ServiceAccounts in its namespaces. Keys of services without a role are
// opened by the controller's own role and policy (PREFIXcontroller).
func render(svcs []renderService, o renderOptions) map[string]*VaultServer {
	out := map[string]*VaultServer{}
	server := func(origin string) *VaultServer {
		if out[origin] == nil {
			out[origin] = &VaultServer{Policies: map[string]VaultPolicy{}, Roles: map[string]VaultRole{}}
		}
		return out[origin]
	}
	grant := func(origin, policy, path string) {
		s := server(origin)
		p, ok := s.Policies[policy]
		if !ok {
			p = VaultPolicy{Path: map[string]VaultPath{}}
			s.Policies[policy] = p
		}
		p.Path[path] = VaultPath{Capabilities: []string{"update"}}
	}
	ttl := o.TTL.String()
	controllerPolicy := o.PolicyPrefix + "controller"
	for _, svc := range svcs {
		for _, k := range svc.Keys {
			grant(k.Origin, o.PolicyPrefix+svc.Name+"-seal", k.Mount+"/encrypt/"+k.Name)
			if svc.Role != "" {
				grant(k.Origin, o.PolicyPrefix+svc.Name, k.Mount+"/decrypt/"+k.Name)
				server(k.Origin).Roles["auth/"+o.AuthMount+"/role/"+svc.Role] = VaultRole{
					BoundServiceAccountNames:      saNames(svc.ServiceAccounts),
					BoundServiceAccountNamespaces: sortedCopy(svc.Namespaces),
					TokenPolicies:                 []string{o.PolicyPrefix + svc.Name},
					Audience:                      o.Audience,
					TokenTTL:                      ttl,
					TokenMaxTTL:                   ttl,
				}
			} else {
				grant(k.Origin, controllerPolicy, k.Mount+"/decrypt/"+k.Name)
			}
		}
	}
	ns, name, _ := strings.Cut(o.ControllerSA, "/")
	for _, s := range out {
		if _, ok := s.Policies[controllerPolicy]; !ok {
			// The controller needs a role to log in even when every
			// service logs in as itself; it then may open nothing.
			s.Policies[controllerPolicy] = VaultPolicy{Path: map[string]VaultPath{}}
		}
		s.Roles["auth/"+o.AuthMount+"/role/"+o.ControllerRole] = VaultRole{
			BoundServiceAccountNames: []string{name}, BoundServiceAccountNamespaces: []string{ns},
			TokenPolicies: []string{controllerPolicy}, TokenTTL: "1h", TokenMaxTTL: "1h",
		}
	}
	return out
}

// saNames returns the ServiceAccount names ("NAME" or "NAMESPACE/NAME").
func saNames(sas []string) []string {
	var out []string
	for _, a := range sas {
		if _, n, ok := strings.Cut(a, "/"); ok {
			a = n
		}
		out = append(out, a)
	}
	return sortedCopy(out)
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// serviceAccountFor is the ServiceAccount the controller logs in as for a
// service's object in namespace: the first the policy lists that is a bare
// name or names that namespace. The render of the TokenRequest RBAC uses
// the same choice.
func serviceAccountFor(sas []string, namespace string) string {
	for _, a := range sas {
		if ns, name, ok := strings.Cut(a, "/"); ok {
			if ns == namespace {
				return name
			}
			continue
		}
		return a
	}
	return ""
}

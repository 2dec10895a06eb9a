package vaulttransit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"kseal.dev/kseal/pkg/keys"
)

// renderService is a service as rendering needs it.
type renderService struct {
	Name            string
	Namespaces      []string
	ServiceAccounts []string
	Role            string // the service's Vault role (providers.vault.role), or ""
	Keys            []Key  // the Vault keys of its grants (own and shared): it seals to all
	// OpenKeys are the Keys its role (or, without one, the controller's)
	// may decrypt with: those that open nothing it may not read
	// (keys.Plan.BlindOpeners).
	OpenKeys []Key
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
// to its keys (PREFIXSERVICE-seal, for whoever seals: CI, developers), and
// a policy that may decrypt with its OpenKeys: for a service with a Vault
// role its own (PREFIXSERVICE), attached to that role, which binds the
// service's ServiceAccounts in its namespaces; for a service without one the
// controller's own role and policy (PREFIXcontroller).
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
		}
		for _, k := range svc.OpenKeys {
			if svc.Role == "" {
				grant(k.Origin, controllerPolicy, k.Mount+"/decrypt/"+k.Name)
				continue
			}
			grant(k.Origin, o.PolicyPrefix+svc.Name, k.Mount+"/decrypt/"+k.Name)
			server(k.Origin).Roles["auth/"+o.AuthMount+"/role/"+svc.Role] = VaultRole{
				BoundServiceAccountNames:      saNames(svc.ServiceAccounts),
				BoundServiceAccountNamespaces: keys.SortedSet(svc.Namespaces),
				TokenPolicies:                 []string{o.PolicyPrefix + svc.Name},
				Audience:                      o.Audience,
				TokenTTL:                      ttl,
				TokenMaxTTL:                   ttl,
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
	return keys.SortedSet(out)
}

// serviceAccountFor is the ServiceAccount the controller logs in as for a
// service's object in namespace: of the service's accounts that are a bare
// name or name that namespace (NAMESPACE/NAME), the first in sorted order.
// The render of the TokenRequest RBAC makes the same choice.
func serviceAccountFor(sas []string, namespace string) string {
	for _, a := range keys.SortedSet(sas) {
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

// vaultRenderInfo and rbacRenderInfo are `kseal policy render vault` and
// `vault-rbac`.
var (
	vaultRenderInfo = keys.RendererInfo{
		Target: "vault",
		Summary: `prints {"VAULT SERVER": {"policies": {NAME: policy}, "roles": {"auth/kubernetes/role/NAME": role}}};
  apply each with vault policy write NAME - and vault write PATH - (docs/vault.md)`,
		Options: []string{"authMount=PATH (kubernetes)", "audience=AUD (vault)", "ttl=DURATION (10m)",
			"controllerRole=NAME (kseal-controller)", "controllerServiceAccount=NS/NAME (kseal-system/kseal-controller)", "policyPrefix=P (kseal-)"},
		Renderer: vaultRenderer{},
	}
	rbacRenderInfo = keys.RendererInfo{
		Target:   "vault-rbac",
		Summary:  "prints a List of Roles and RoleBindings letting the controller request tokens of exactly the ServiceAccounts of services with a Vault role; apply with kubectl apply -f -",
		Options:  []string{"controllerServiceAccount=NS/NAME (kseal-system/kseal-controller)"},
		Renderer: rbacRenderer{},
	}
)

type vaultRenderer struct{}

// Render returns the Vault policies and Kubernetes auth roles per server.
func (vaultRenderer) Render(p *keys.Plan, opts map[string]string) (any, error) {
	o, err := parseRenderOptions(opts)
	if err != nil {
		return nil, err
	}
	svcs, err := servicesOf(p)
	if err != nil {
		return nil, err
	}
	return render(svcs, o), nil
}

type rbacRenderer struct{}

// Render returns the TokenRequest RBAC of per-service login.
func (rbacRenderer) Render(p *keys.Plan, opts map[string]string) (any, error) {
	if err := keys.UnknownOptions(opts, "controllerServiceAccount"); err != nil {
		return nil, err
	}
	o, err := parseRenderOptions(opts)
	if err != nil {
		return nil, err
	}
	svcs, err := servicesOf(p)
	if err != nil {
		return nil, err
	}
	return renderRBAC(svcs, o), nil
}

// controllerUnwrapper stands, in keys.Plan.BlindOpeners, for the
// controller's own login, which opens every service without a role.
const controllerUnwrapper = "(the controller's own role)"

// servicesOf collects, per service, the Vault keys the plan grants it (its
// own and its shared secrets') and those of them it may decrypt with, in a
// stable order. Vault ACLs cannot see the associated data a wrap is bound
// to, so a token allowed to decrypt with a key opens every wrap to it: a key
// also named by a grant the decrypting role does not serve is withheld, and
// a plan leaving a role none of a grant's keys is refused. The services
// without a role are one decrypting role, the controller's.
func servicesOf(p *keys.Plan) ([]renderService, error) {
	mine := func(r keys.Recipient) bool { _, ok := r.(*Recipient); return ok }
	unwrapper := func(s keys.PlanService) string {
		if s.Settings[Type]["role"] != "" {
			return s.Name
		}
		return controllerUnwrapper
	}
	openers, err := p.BlindOpeners("Vault ACLs", mine, unwrapper)
	if err != nil {
		return nil, err
	}
	byName := map[string]*renderService{}
	var order []string
	for _, pk := range p.Keys {
		r, ok := pk.Recipient.(*Recipient)
		if !ok {
			continue
		}
		for _, g := range pk.Grants {
			for _, s := range g.Services {
				rs := byName[s.Name]
				if rs == nil {
					set := s.Settings[Type]
					rs = &renderService{Name: s.Name, Namespaces: s.Namespaces, ServiceAccounts: loginAccounts(s.ServiceAccounts, set), Role: set["role"]}
					byName[s.Name] = rs
					order = append(order, s.Name)
				}
				if !slices.Contains(rs.Keys, r.Key) {
					rs.Keys = append(rs.Keys, r.Key)
				}
				if slices.Contains(openers[pk.Name], unwrapper(s)) && !slices.Contains(rs.OpenKeys, r.Key) {
					rs.OpenKeys = append(rs.OpenKeys, r.Key)
				}
			}
		}
	}
	slices.Sort(order)
	out := make([]renderService, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out, nil
}

package gcpkms

import (
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

// renderInfo is `kseal policy render gcp`.
var renderInfo = keys.RendererInfo{
	Target: "gcp",
	Summary: `prints {"CryptoKey name": IAM policy}; apply each with
  gcloud kms keys set-iam-policy KEY policy.json`,
	Renderer: renderer{},
}

// IsPrincipal reports whether id is a GCP IAM member this renderer grants.
func IsPrincipal(id string) bool {
	return strings.HasPrefix(id, "serviceAccount:") || strings.HasPrefix(id, "user:") || strings.HasPrefix(id, "group:")
}

// Binding is one IAM binding.
type Binding struct {
	Role    string   `json:"role"`
	Members []string `json:"members"`
}

// Policy is the IAM policy of one CryptoKey, as
// `gcloud kms keys set-iam-policy` accepts it.
type Policy struct {
	Bindings []Binding `json:"bindings"`
}

type renderer struct{}

// Render returns an IAM policy per CryptoKey (by resource name): writers
// get roles/cloudkms.cryptoKeyEncrypter on every key of their grants (sealing
// wraps to all of them), the controllers roles/cloudkms.cryptoKeyDecrypter on
// every key, and readers roles/cloudkms.cryptoKeyDecrypter only on keys that
// open nothing but their service's secrets. Cloud KMS IAM cannot see the
// additional authenticated data a wrap is bound to, so a reader holding a key
// opens every wrap to it: a key also named by a grant without the reader's
// service is withheld (keys.Plan.BlindOpeners), and a policy that leaves a
// service's readers none of a grant's keys is refused.
func (renderer) Render(p *keys.Plan, opts map[string]string) (any, error) {
	if err := keys.UnknownOptions(opts); err != nil {
		return nil, err
	}
	return RenderPolicies(p)
}

// RenderPolicies is Render without options.
func RenderPolicies(p *keys.Plan) (map[string]*Policy, error) {
	mine := func(r keys.Recipient) bool { _, ok := r.(*Recipient); return ok }
	unwrapper := func(s keys.PlanService) string {
		if len(members(s.Readers)) > 0 {
			return s.Name
		}
		return ""
	}
	openers, err := p.BlindOpeners("Cloud KMS IAM", mine, unwrapper)
	if err != nil {
		return nil, err
	}
	out := map[string]*Policy{}
	for _, k := range p.Keys {
		r, ok := k.Recipient.(*Recipient)
		if !ok {
			continue
		}
		var enc, dec []string
		for _, g := range k.Grants {
			for _, s := range g.Services {
				enc = append(enc, members(s.Writers)...)
				if slices.Contains(openers[k.Name], s.Name) {
					dec = append(dec, members(s.Readers)...)
				}
			}
		}
		dec = append(dec, members(p.Controllers)...)
		pol := &Policy{Bindings: []Binding{}}
		if enc = keys.SortedSet(enc); len(enc) > 0 {
			pol.Bindings = append(pol.Bindings, Binding{Role: "roles/cloudkms.cryptoKeyEncrypter", Members: enc})
		}
		if dec = keys.SortedSet(dec); len(dec) > 0 {
			pol.Bindings = append(pol.Bindings, Binding{Role: "roles/cloudkms.cryptoKeyDecrypter", Members: dec})
		}
		out[r.Name] = pol
	}
	return out, nil
}

func members(ids []string) []string {
	var out []string
	for _, id := range ids {
		if IsPrincipal(id) {
			out = append(out, id)
		}
	}
	return out
}

package gcpkms

import (
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

func init() {
	keys.RegisterPrincipals(keys.PrincipalMatcher{Name: "a GCP IAM member (serviceAccount:/user:/group:…)", Match: IsPrincipal})
	keys.RegisterRenderer(keys.RendererInfo{
		Target: "gcp",
		Summary: `prints {"CryptoKey name": IAM policy}; apply each with
  gcloud kms keys set-iam-policy KEY policy.json`,
		Renderer: renderer{},
	})
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
// get roles/cloudkms.cryptoKeyEncrypter, readers and the controllers
// roles/cloudkms.cryptoKeyDecrypter. Cloud KMS IAM cannot see the
// additional authenticated data, so the namespace restriction rests on the
// controller's enforcement of the policy.
func (renderer) Render(p *keys.Plan, opts map[string]string) (any, error) {
	if err := keys.UnknownOptions(opts); err != nil {
		return nil, err
	}
	return RenderPolicies(p), nil
}

// RenderPolicies is Render without options.
func RenderPolicies(p *keys.Plan) map[string]*Policy {
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
				dec = append(dec, members(s.Readers)...)
			}
		}
		dec = append(dec, members(p.Controllers)...)
		pol := &Policy{Bindings: []Binding{}}
		if enc = sorted(enc); len(enc) > 0 {
			pol.Bindings = append(pol.Bindings, Binding{Role: "roles/cloudkms.cryptoKeyEncrypter", Members: enc})
		}
		if dec = sorted(dec); len(dec) > 0 {
			pol.Bindings = append(pol.Bindings, Binding{Role: "roles/cloudkms.cryptoKeyDecrypter", Members: dec})
		}
		out[r.Name] = pol
	}
	return out
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

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

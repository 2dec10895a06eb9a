package policy

import (
	"fmt"
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/crypto"
)

// AWSStatement is one statement of a KMS key policy.
type AWSStatement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Principal map[string][]string            `json:"Principal"`
	Action    []string                       `json:"Action"`
	Resource  string                         `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// AWSKeyPolicy is a KMS key policy document.
type AWSKeyPolicy struct {
	Version   string         `json:"Version"`
	Statement []AWSStatement `json:"Statement"`
}

// Condition keys on the encryption context kseal sends (pkg/crypto Binding).
const (
	condNamespace = "kms:EncryptionContext:kseal-namespace"
	condScope     = "kms:EncryptionContext:kseal-scope"
	condName      = "kms:EncryptionContext:kseal-name"
)

// RenderAWS returns a key policy per AWS KMS key (by ARN). Writers get
// kms:Encrypt and readers and the clusters' controller roles kms:Decrypt,
// each conditioned on the namespaces of the services the key serves; a
// shared secret's statements are conditioned on scope shared and its name,
// so they open that one secret and nothing else. Key administration
// stays with adminARN, or the root of the key's account when it is empty.
func (p *Policy) RenderAWS(adminARN string) map[string]*AWSKeyPolicy {
	out := map[string]*AWSKeyPolicy{}
	for _, kn := range sortedKeys(p.Keys) {
		k := p.Keys[kn]
		if k.AWSKMS == "" {
			continue
		}
		doc := &AWSKeyPolicy{Version: "2012-10-17"}
		admin := adminARN
		if parts := strings.Split(k.AWSKMS, ":"); admin == "" && len(parts) > 4 {
			admin = fmt.Sprintf("arn:%s:iam::%s:root", parts[1], parts[4])
		}
		doc.Statement = append(doc.Statement, AWSStatement{Sid: "KeyAdministration", Effect: "Allow",
			Principal: map[string][]string{"AWS": {admin}}, Action: []string{"kms:*"}, Resource: "*"})
		controllers := p.controllerRoles()
		for _, sn := range sortedKeys(p.Services) {
			svc := p.Services[sn]
			if !slices.Contains(svc.Keys, kn) {
				continue
			}
			cond := map[string]map[string][]string{"StringEquals": {condNamespace: sorted(svc.Namespaces)}}
			if w := identities(svc.Writers, "aws"); len(w) > 0 {
				doc.Statement = append(doc.Statement, AWSStatement{Sid: sid(sn, "Seal"), Effect: "Allow", Principal: map[string][]string{"AWS": w},
					Action: []string{"kms:Encrypt"}, Resource: "*", Condition: cond})
			}
			if r := sorted(append(identities(svc.Readers, "aws"), controllers...)); len(r) > 0 {
				doc.Statement = append(doc.Statement, AWSStatement{Sid: sid(sn, "Open"), Effect: "Allow", Principal: map[string][]string{"AWS": r},
					Action: []string{"kms:Decrypt"}, Resource: "*", Condition: cond})
			}
		}
		for _, sh := range p.Shared {
			if !slices.Contains(p.sharedKeys(sh), kn) {
				continue
			}
			var w, r []string
			for _, sn := range sh.Services {
				w = append(w, identities(p.Services[sn].Writers, "aws")...)
				r = append(r, identities(p.Services[sn].Readers, "aws")...)
			}
			cond := map[string]map[string][]string{"StringEquals": {condScope: {string(crypto.ScopeShared)}, condName: {sh.Name}}}
			if w = sorted(w); len(w) > 0 {
				doc.Statement = append(doc.Statement, AWSStatement{Sid: sid("Shared "+sh.Name, "Seal"), Effect: "Allow", Principal: map[string][]string{"AWS": w},
					Action: []string{"kms:Encrypt"}, Resource: "*", Condition: cond})
			}
			if r = sorted(append(r, controllers...)); len(r) > 0 {
				doc.Statement = append(doc.Statement, AWSStatement{Sid: sid("Shared "+sh.Name, "Open"), Effect: "Allow", Principal: map[string][]string{"AWS": r},
					Action: []string{"kms:Decrypt"}, Resource: "*", Condition: cond})
			}
		}
		out[k.AWSKMS] = doc
	}
	return out
}

// GCPBinding is one IAM binding.
type GCPBinding struct {
	Role    string   `json:"role"`
	Members []string `json:"members"`
}

// GCPPolicy is the IAM policy of one CryptoKey, as
// `gcloud kms keys set-iam-policy` accepts it.
type GCPPolicy struct {
	Bindings []GCPBinding `json:"bindings"`
}

// RenderGCP returns an IAM policy per GCP KMS CryptoKey (by resource name):
// writers get roles/cloudkms.cryptoKeyEncrypter, readers and the clusters'
// controller service accounts roles/cloudkms.cryptoKeyDecrypter. Cloud KMS
// IAM cannot see the additional authenticated data, so the namespace
// restriction rests on the controller's enforcement of this policy.
func (p *Policy) RenderGCP() map[string]*GCPPolicy {
	out := map[string]*GCPPolicy{}
	for _, kn := range sortedKeys(p.Keys) {
		k := p.Keys[kn]
		if k.GCPKMS == "" {
			continue
		}
		var enc, dec []string
		for _, sn := range sortedKeys(p.Services) {
			svc := p.Services[sn]
			if slices.Contains(svc.Keys, kn) {
				enc = append(enc, identities(svc.Writers, "gcp")...)
				dec = append(dec, identities(svc.Readers, "gcp")...)
			}
		}
		for _, sh := range p.Shared {
			if slices.Contains(p.sharedKeys(sh), kn) {
				for _, sn := range sh.Services {
					enc = append(enc, identities(p.Services[sn].Writers, "gcp")...)
					dec = append(dec, identities(p.Services[sn].Readers, "gcp")...)
				}
			}
		}
		for _, cn := range sortedKeys(p.Clusters) {
			if sa := p.Clusters[cn].GCPServiceAccount; sa != "" {
				dec = append(dec, "serviceAccount:"+strings.TrimPrefix(sa, "serviceAccount:"))
			}
		}
		pol := &GCPPolicy{Bindings: []GCPBinding{}}
		if enc = sorted(enc); len(enc) > 0 {
			pol.Bindings = append(pol.Bindings, GCPBinding{Role: "roles/cloudkms.cryptoKeyEncrypter", Members: enc})
		}
		if dec = sorted(dec); len(dec) > 0 {
			pol.Bindings = append(pol.Bindings, GCPBinding{Role: "roles/cloudkms.cryptoKeyDecrypter", Members: dec})
		}
		out[strings.TrimPrefix(k.GCPKMS, "gcpkms:")] = pol
	}
	return out
}

func (p *Policy) controllerRoles() []string {
	var out []string
	for _, cn := range sortedKeys(p.Clusters) {
		if r := p.Clusters[cn].AWSRole; r != "" {
			out = append(out, r)
		}
	}
	return out
}

func identities(ids []string, kind string) []string {
	var out []string
	for _, id := range ids {
		if kindOfIdentity(id) == kind {
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

// sid makes a statement ID (alphanumeric only, as IAM requires).
func sid(name, what string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return fmt.Sprintf("%s%s", b.String(), what)
}

package awskms

import (
	"fmt"
	"slices"
	"strings"

	"kseal.dev/kseal/pkg/keys"
)

// renderInfo is `kseal policy render aws`.
var renderInfo = keys.RendererInfo{
	Target: "aws",
	Summary: `prints {"KEY ARN": key policy}; apply each with
  aws kms put-key-policy --key-id ARN --policy-name default --policy file://key.json`,
	Options:  []string{"admin=ARN: principal keeping key administration (default: the key account's root)"},
	Renderer: renderer{},
}

// IsPrincipal reports whether id is an AWS IAM principal ARN.
func IsPrincipal(id string) bool {
	for _, p := range []string{"arn:aws:iam::", "arn:aws-cn:iam::", "arn:aws-us-gov:iam::"} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// Statement is one statement of a KMS key policy.
type Statement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Principal map[string][]string            `json:"Principal"`
	Action    []string                       `json:"Action"`
	Resource  string                         `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// KeyPolicy is a KMS key policy document.
type KeyPolicy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

type renderer struct{}

// adminActions are what the KeyAdministration statement allows: managing
// the key and its policy, never using it. kms:Encrypt, kms:Decrypt,
// kms:ReEncrypt*, kms:GenerateDataKey* and kms:CreateGrant (a grant hands
// use of the key to any principal, out of the key policy's sight) are left
// out, so with the account root as administrator an IAM policy allowing
// kms:Decrypt on "*" does not reach these keys.
var adminActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:Delete*", "kms:Describe*", "kms:Disable*", "kms:Enable*",
	"kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
	"kms:TagResource", "kms:UntagResource", "kms:Update*",
}

// Render returns a key policy per AWS KMS key (by ARN). Writers get
// kms:Encrypt and readers and the controllers kms:Decrypt, each conditioned
// on the grant's binding as encryption context: a service's statements on
// its namespaces, a shared secret's on scope shared and its name, so they
// open that one secret and nothing else. Key administration (adminActions,
// not use) stays with opts["admin"], or the root of the key's account.
func (renderer) Render(p *keys.Plan, opts map[string]string) (any, error) {
	if err := keys.UnknownOptions(opts, "admin"); err != nil {
		return nil, err
	}
	return RenderPolicies(p, opts["admin"]), nil
}

// RenderPolicies is Render with its option as an argument.
func RenderPolicies(p *keys.Plan, adminARN string) map[string]*KeyPolicy {
	out := map[string]*KeyPolicy{}
	controllers := principals(p.Controllers)
	for _, k := range p.Keys {
		r, ok := k.Recipient.(*Recipient)
		if !ok {
			continue
		}
		doc := &KeyPolicy{Version: "2012-10-17"}
		admin := adminARN
		if parts := strings.Split(r.ARN, ":"); admin == "" && len(parts) > 4 {
			admin = fmt.Sprintf("arn:%s:iam::%s:root", parts[1], parts[4])
		}
		doc.Statement = append(doc.Statement, Statement{Sid: "KeyAdministration", Effect: "Allow",
			Principal: map[string][]string{"AWS": {admin}}, Action: slices.Clone(adminActions), Resource: "*"})
		for _, g := range k.Grants {
			var w, rd []string
			for _, s := range g.Services {
				w = append(w, principals(s.Writers)...)
				rd = append(rd, principals(s.Readers)...)
			}
			cond := map[string]map[string][]string{"StringEquals": {}}
			for bk, vs := range g.Binding {
				cond["StringEquals"]["kms:EncryptionContext:"+bk] = vs
			}
			name := strings.Replace(g.Rule, "service ", "", 1)
			if w = keys.SortedSet(w); len(w) > 0 {
				doc.Statement = append(doc.Statement, Statement{Sid: sid(name, "Seal"), Effect: "Allow", Principal: map[string][]string{"AWS": w},
					Action: []string{"kms:Encrypt"}, Resource: "*", Condition: cond})
			}
			if rd = keys.SortedSet(append(rd, controllers...)); len(rd) > 0 {
				doc.Statement = append(doc.Statement, Statement{Sid: sid(name, "Open"), Effect: "Allow", Principal: map[string][]string{"AWS": rd},
					Action: []string{"kms:Decrypt"}, Resource: "*", Condition: cond})
			}
		}
		out[r.ARN] = doc
	}
	return out
}

func principals(ids []string) []string {
	var out []string
	for _, id := range ids {
		if IsPrincipal(id) {
			out = append(out, id)
		}
	}
	return out
}

// sid makes a statement ID (alphanumeric only, as IAM requires).
func sid(name, what string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + what
}

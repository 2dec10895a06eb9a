package cli

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest"
)

// The plaintext rules of policy check, which hold without a policy too:
// pure functions of one parsed document (the policy's own rules over
// sealed objects are policy.CheckSealed). Each returns the messages of its
// findings, without the document's name, which checkFile puts in front.

// plainSecretFindings are the findings of a plain Secret in file: values
// committed in plaintext, values a sops file left unencrypted, and a
// last-applied copy of the Secret (which holds its values in base64, also
// with data and stringData gone).
func plainSecretFindings(d *manifest.Doc, file string) []string {
	var out []string
	plain, sops := sopsPlaintext(d)
	switch {
	case sops && len(plain) > 0:
		out = append(out, fmt.Sprintf("sops-encrypted Secret with values left in plaintext: %s (check encrypted_regex / unencrypted_suffix in .sops.yaml)", strings.Join(plain, ", ")))
	case !sops && holdsValues(d):
		out = append(out, fmt.Sprintf("plaintext Secret committed; seal it: kseal seal -i %s", file))
	}
	if !sops {
		for _, f := range d.LastApplied() {
			out = append(out, fmt.Sprintf("%s holds a copy of the Secret as last applied (its values in base64); remove it and rotate the values", f))
		}
	}
	return out
}

// sealedLastApplied are the findings of a sealed object's last-applied
// copies: one made before it was sealed holds the plain Secret's values.
func sealedLastApplied(d *manifest.Doc) []string {
	var out []string
	for _, f := range d.LastApplied() {
		out = append(out, fmt.Sprintf("%s holds a copy of the object as last applied (with a plain Secret's values in base64); remove it and rotate the values", f))
	}
	return out
}

// holdsValues reports whether a plain Secret has any data or stringData
// entry: one without values (a service account token Secret the token
// controller fills, say) holds nothing to leak.
func holdsValues(d *manifest.Doc) bool {
	for _, f := range []string{"data", "stringData"} {
		if fn := d.Node().Field(f); fn != nil && len(fn.Value.YNode().Content) > 0 {
			return true
		}
		if fn := d.Node().Field(f); fn != nil && fn.Value.YNode().Kind == yaml.ScalarNode && fn.Value.YNode().Tag != yaml.NodeTagNull && fn.Value.YNode().Value != "" {
			return true // not a mapping: not valid, and not empty either
		}
	}
	return false
}

// sopsPlaintext tells whether a plain Secret is a sops-encrypted file (a
// top-level sops mapping with a mac) and, if so, which of its data and
// stringData values sops left unencrypted (not ENC[…]): a repository
// migrating from sops is not flagged for ciphertext, but a value that
// encrypted_regex or unencrypted_suffix left readable is.
func sopsPlaintext(d *manifest.Doc) (plain []string, sops bool) {
	n := d.Node()
	meta := n.Field("sops")
	if meta == nil || meta.Value.YNode().Kind != yaml.MappingNode || meta.Value.Field("mac") == nil {
		return nil, false
	}
	for _, f := range []string{"data", "stringData"} {
		fn := n.Field(f)
		if fn == nil || fn.Value.YNode().Kind != yaml.MappingNode {
			continue
		}
		c := fn.Value.YNode().Content
		for i := 0; i+1 < len(c); i += 2 {
			v := c[i+1]
			if v.Kind != yaml.ScalarNode || !strings.HasPrefix(v.Value, "ENC[") || !strings.HasSuffix(v.Value, "]") {
				plain = append(plain, f+"."+c[i].Value)
			}
		}
	}
	return plain, true
}

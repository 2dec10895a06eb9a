package sealedsecrets

import (
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// SecretText renders the plain Secret o stands for, to be sealed again.
// Everything goes through manifest.SecretText, which writes each template
// field with the YAML type the API server reads it as: immutable is a
// boolean, never the string "true" (the API server refuses that object, and
// the sealed-secrets controller's template field is a *bool).
func (o *Opened) SecretText() (string, error) {
	t := crypto.Target{
		Namespace: o.Namespace,
		Name:      o.Name,
		Template: crypto.Template{
			Labels:      o.Labels,
			Annotations: o.Annotations,
			Type:        o.Type,
			Immutable:   o.Immutable != nil && *o.Immutable,
		},
	}
	return manifest.SecretText(t, "", o.Values)
}

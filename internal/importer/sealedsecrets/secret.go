package sealedsecrets

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// SecretText renders the plain Secret o stands for, to be sealed again.
func (o *Opened) SecretText() (string, error) {
	text, err := manifest.SecretText(crypto.Target{Namespace: o.Namespace, Name: o.Name}, o.Type, o.Values)
	if err != nil {
		return "", err
	}
	n, err := yaml.Parse(text)
	if err != nil {
		return "", err
	}
	if len(o.Labels) > 0 {
		if err := n.SetLabels(o.Labels); err != nil {
			return "", err
		}
	}
	if len(o.Annotations) > 0 {
		if err := n.SetAnnotations(o.Annotations); err != nil {
			return "", err
		}
	}
	if o.Immutable != nil {
		v := "false"
		if *o.Immutable {
			v = "true"
		}
		if err := n.PipeE(yaml.SetField("immutable", yaml.NewScalarRNode(v))); err != nil {
			return "", err
		}
	}
	return n.String()
}

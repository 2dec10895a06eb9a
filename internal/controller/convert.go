package controller

import (
	"encoding/json"
	"errors"
	"fmt"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
)

// sealedFromAPI parses a SealedSecret's spec with crypto.Parse, the parser
// the CLI reads files with. The API and the envelope share field names, so
// the spec's envelope as JSON is the envelope's JSON.
func sealedFromAPI(ss *ksealv1.SealedSecret) (*crypto.Sealed, error) {
	env, err := json.Marshal(ss.Spec.Envelope)
	if err != nil {
		return nil, err
	}
	values := make(map[string]string, len(ss.Spec.EncryptedData))
	for k, v := range ss.Spec.EncryptedData {
		values[k] = string(v)
	}
	s, err := crypto.Parse(env, values)
	var pe *crypto.ParseError
	switch {
	case errors.As(err, &pe) && pe.Key == "":
		return nil, fmt.Errorf("spec.envelope: %w", err)
	case errors.As(err, &pe):
		return nil, fmt.Errorf("spec.encryptedData.%s: %w", pe.Key, err)
	}
	return s, err
}

// targetOf is the object ss's values are bound to: its namespace and name,
// and the template of the Secret it describes, which the commitment covers
// (a template changed without a key fails as IntegrityFailed).
func targetOf(ss *ksealv1.SealedSecret) crypto.Target {
	t := ss.Spec.Template
	return crypto.Target{Namespace: ss.Namespace, Name: ss.Name, Template: crypto.Template{
		Type:        string(t.Type),
		Immutable:   t.Immutable != nil && *t.Immutable,
		Labels:      t.Metadata.Labels,
		Annotations: t.Metadata.Annotations,
	}}
}

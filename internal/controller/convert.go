package controller

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
)

// sealedFromAPI turns a SealedSecret's spec into the envelope types of
// pkg/crypto. The API and the envelope share field names, so a JSON round
// trip converts them and decodes base64 in one step.
func sealedFromAPI(ss *ksealv1.SealedSecret) (*crypto.Sealed, error) {
	j, err := json.Marshal(ss.Spec.Envelope)
	if err != nil {
		return nil, err
	}
	var env crypto.Envelope
	if err := json.Unmarshal(j, &env); err != nil {
		return nil, fmt.Errorf("spec.envelope: %w", err)
	}
	s := &crypto.Sealed{Envelope: env, Values: make(map[string][]byte, len(ss.Spec.EncryptedData))}
	for k, v := range ss.Spec.EncryptedData {
		b, err := base64.StdEncoding.DecodeString(string(v))
		if err != nil {
			return nil, fmt.Errorf("spec.encryptedData.%s: not valid base64", k)
		}
		s.Values[k] = b
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
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

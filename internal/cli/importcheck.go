package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	sigsyaml "sigs.k8s.io/yaml"

	"kseal.dev/kseal/config/crd"
	"kseal.dev/kseal/pkg/manifest"
)

// sealedSecretSchema is the openAPIV3Schema of kseal.dev/v1alpha1
// SealedSecret from the generated CRD, as a validator.
var sealedSecretSchema = sync.OnceValues(func() (*validate.SchemaValidator, error) {
	var c struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := sigsyaml.Unmarshal(crd.SealedSecrets, &c); err != nil {
		return nil, fmt.Errorf("the built-in CRD: %w", err)
	}
	for _, v := range c.Spec.Versions {
		if manifest.SealedAPIVersion != "kseal.dev/"+v.Name {
			continue
		}
		var s spec.Schema
		if err := json.Unmarshal(v.Schema.OpenAPIV3Schema, &s); err != nil {
			return nil, fmt.Errorf("the built-in CRD: %w", err)
		}
		return validate.NewSchemaValidator(&s, nil, "", strfmt.Default), nil
	}
	return nil, fmt.Errorf("the built-in CRD has no version for %s", manifest.SealedAPIVersion)
})

// validateConverted checks each object an import converted as the API
// server will: a SealedSecret against the CRD's schema, an encrypted
// Secret by decoding it, strictly, as a v1 Secret. An object that would
// not apply fails the import before anything is written, so no adopt
// script ever detaches a Secret whose replacement the cluster refuses.
func validateConverted(ins []*input, from map[*input]bool) error {
	for _, in := range ins {
		if !from[in] {
			continue
		}
		for _, d := range in.strm.Docs {
			if err := validateObject(d); err != nil {
				return fmt.Errorf("%s: %w", in.name, d.Err(fmt.Errorf("the converted object would not apply: %w", err)))
			}
		}
	}
	return nil
}

// validateObject checks one converted document (other kinds pass).
func validateObject(d *manifest.Doc) error {
	if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
		return nil
	}
	text, err := d.Node().String()
	if err != nil {
		return err
	}
	if d.Kind == manifest.KindEncrypted {
		var s corev1.Secret
		return sigsyaml.UnmarshalStrict([]byte(text), &s)
	}
	v, err := sealedSecretSchema()
	if err != nil {
		return err
	}
	var obj map[string]any
	if err := sigsyaml.Unmarshal([]byte(text), &obj); err != nil {
		return err
	}
	res := v.Validate(obj)
	if res == nil || res.IsValid() {
		return nil
	}
	var msgs []string
	for _, e := range res.Errors {
		msgs = append(msgs, e.Error())
	}
	return errors.New(strings.Join(msgs, "; "))
}

// envKubectl names the kubectl --check-server runs instead of the first
// kubectl on PATH.
const envKubectl = "KSEAL_KUBECTL"

// checkServer sends every converted object to the API server of kubectl's
// current context as a server-side dry run (kubectl apply
// --dry-run=server), before anything is written: what the cluster would
// refuse (a namespace that does not exist, an admission policy, a CRD not
// yet installed) stops the import, and no adopt script is written. Only
// sealed objects are sent, never plaintext.
func checkServer(e *env, ins []*input, from map[*input]bool) error {
	var docs []string
	for _, in := range ins {
		if !from[in] {
			continue
		}
		for _, d := range in.strm.Docs {
			if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
				continue
			}
			text, err := d.Node().String()
			if err != nil {
				return err
			}
			docs = append(docs, text)
		}
	}
	if len(docs) == 0 {
		return nil
	}
	bin := e.getenv(envKubectl)
	if bin == "" {
		p, err := exec.LookPath("kubectl")
		if err != nil {
			return errors.New("--check-server runs kubectl: not found on PATH (or set " + envKubectl + ")")
		}
		bin = p
	}
	cmd := exec.CommandContext(e.ctx, bin, "apply", "--dry-run=server", "-o", "name", "-f", "-")
	cmd.Stdin = strings.NewReader(strings.Join(docs, "---\n"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return hintError{fmt.Errorf("--check-server: the API server refuses converted objects (kubectl apply --dry-run=server: %v): %s", err, strings.TrimSpace(errb.String())), "nothing written; fix what the server names, or leave those files out with --exclude"}
	}
	return nil
}

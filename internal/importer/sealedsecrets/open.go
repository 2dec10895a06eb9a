package sealedsecrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// API identifiers of the sealed-secrets controller.
const (
	APIVersion              = "bitnami.com/v1alpha1"
	Kind                    = "SealedSecret"
	AnnotationPrefix        = "sealedsecrets.bitnami.com/"
	AnnotationClusterWide   = AnnotationPrefix + "cluster-wide"
	AnnotationNamespaceWide = AnnotationPrefix + "namespace-wide"
)

// Scope is a sealed-secrets scope.
type Scope string

// The sealed-secrets scopes.
const (
	ScopeStrict        Scope = "strict"
	ScopeNamespaceWide Scope = "namespace-wide"
	ScopeClusterWide   Scope = "cluster-wide"
)

// Sentinel errors; Open wraps them in an *Error naming object and field.
var (
	ErrNoKey        = errors.New("none of the given keys opens it")
	ErrTampered     = errors.New("the key opens its session key but the value fails authentication: the ciphertext was altered")
	ErrTemplateData = errors.New("template data with placeholders is a sealed-secrets feature kseal does not have; render the values into encryptedData with kubeseal first, or drop it")
	ErrV1Data       = errors.New("the deprecated single-blob spec.data format is not supported; re-seal it with kubeseal v0.7 or later first")
	ErrMissingNS    = errors.New("missing, and the scope binds the namespace; pass --namespace")
)

// Error is an error about one SealedSecret and one of its fields.
type Error struct {
	Object string // namespace/name
	Field  string
	Err    error
}

func (e *Error) Error() string {
	s := "bitnami SealedSecret " + e.Object
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

type templateSpec struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Type              string            `json:"type,omitempty"`
	Immutable         *bool             `json:"immutable,omitempty"`
	Data              map[string]string `json:"data,omitempty"`
}

// SealedSecret is the part of a bitnami SealedSecret the import reads.
type SealedSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Template      templateSpec      `json:"template,omitempty"`
		Data          []byte            `json:"data,omitempty"`
		EncryptedData map[string]string `json:"encryptedData"`
	} `json:"spec"`
	Status any `json:"status,omitempty"`
}

// Is reports whether the document text holds a bitnami SealedSecret.
func Is(text string) (is bool) {
	defer func() {
		if recover() != nil {
			is = false // third-party parser fed input from git; Parse reports it
		}
	}()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(text), &tm); err != nil {
		return false
	}
	return tm.APIVersion == APIVersion && tm.Kind == Kind
}

// Parse reads a bitnami SealedSecret. Unknown fields are errors.
func Parse(text string) (_ *SealedSecret, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("bitnami SealedSecret: YAML parser failed")
		}
	}()
	var s SealedSecret
	if err := yaml.UnmarshalStrict([]byte(text), &s); err != nil {
		return nil, fmt.Errorf("bitnami SealedSecret: %v", err)
	}
	if s.APIVersion != APIVersion || s.Kind != Kind {
		return nil, fmt.Errorf("not a bitnami SealedSecret (apiVersion %q, kind %q)", s.APIVersion, s.Kind)
	}
	if s.Name == "" {
		return nil, &Error{Field: "metadata.name", Err: errors.New("missing")}
	}
	return &s, nil
}

// Scope is the scope the controller unseals s under: from the
// SealedSecret's own annotations, cluster-wide winning, as in
// v1alpha1.SecretScope.
func (s *SealedSecret) Scope() Scope {
	switch {
	case s.Annotations[AnnotationClusterWide] == "true":
		return ScopeClusterWide
	case s.Annotations[AnnotationNamespaceWide] == "true":
		return ScopeNamespaceWide
	}
	return ScopeStrict
}

// label is the RSA-OAEP label of the scope (v1alpha1.EncryptionLabel).
func label(sc Scope, ns, name string) []byte {
	switch sc {
	case ScopeClusterWide:
		return nil
	case ScopeNamespaceWide:
		return []byte(ns)
	}
	return []byte(ns + "/" + name)
}

// Opened is what a SealedSecret stands for: the Secret the sealed-secrets
// controller would write, less what only that controller reads.
type Opened struct {
	Namespace, Name string
	Scope           Scope
	Labels          map[string]string
	// Annotations of the template, without the sealedsecrets.bitnami.com/
	// ones, which steer the sealed-secrets controller and mean nothing to
	// kseal (managed, patch, skip-set-owner-references, the scopes).
	Annotations map[string]string
	Type        string
	Immutable   *bool
	Values      map[string][]byte
	// Keys are the fingerprints of the keys that opened the values.
	Keys []string
}

// Open decrypts every value of s with keys as the controller does. ns is
// the namespace to assume when s has none (kubectl apply -n). Nothing is
// returned unless every value opens.
func (s *SealedSecret) Open(keys []*Key, ns string) (*Opened, error) {
	if s.Namespace != "" {
		ns = s.Namespace
	}
	obj := s.Name
	if ns != "" {
		obj = ns + "/" + s.Name
	}
	fail := func(field string, err error) error { return &Error{Object: obj, Field: field, Err: err} }
	sc := s.Scope()
	if ns == "" && sc != ScopeClusterWide {
		return nil, fail("metadata.namespace", ErrMissingNS)
	}
	if len(s.Spec.Data) > 0 {
		return nil, fail("spec.data", ErrV1Data)
	}
	if len(s.Spec.Template.Data) > 0 {
		k := slices.Sorted(maps.Keys(s.Spec.Template.Data))[0]
		return nil, fail("spec.template.data."+k, ErrTemplateData)
	}
	t := s.Spec.Template
	o := &Opened{Namespace: ns, Name: s.Name, Scope: sc, Labels: t.Labels, Type: t.Type, Immutable: t.Immutable, Values: map[string][]byte{}}
	for k, v := range t.Annotations {
		if !strings.HasPrefix(k, AnnotationPrefix) {
			if o.Annotations == nil {
				o.Annotations = map[string]string{}
			}
			o.Annotations[k] = v
		}
	}
	lbl := label(sc, ns, s.Name)
	order := slices.Clone(keys)
	for _, k := range slices.Sorted(maps.Keys(s.Spec.EncryptedData)) {
		field := "spec.encryptedData." + k
		ct, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Spec.EncryptedData[k]))
		if err != nil {
			return nil, fail(field, errors.New("not valid base64"))
		}
		pt, used, err := open(order, ct, lbl)
		if err != nil {
			return nil, fail(field, fmt.Errorf("%w (scope %s; tried %s)", err, sc, fingerprints(keys)))
		}
		o.Values[k] = pt
		// The key that opened one value likely opens the rest: try it first.
		order = append([]*Key{used}, slices.DeleteFunc(order, func(x *Key) bool { return x == used })...)
		if !slices.Contains(o.Keys, used.Fingerprint) {
			o.Keys = append(o.Keys, used.Fingerprint)
		}
	}
	return o, nil
}

func fingerprints(keys []*Key) string {
	var fp []string
	for _, k := range keys {
		fp = append(fp, k.Fingerprint)
	}
	return strings.Join(fp, ", ")
}

// open tries each key on one value (singleDecrypt of sealed-secrets'
// pkg/crypto for each).
func open(keys []*Key, ct, lbl []byte) ([]byte, *Key, error) {
	if len(ct) < 2 {
		return nil, nil, errors.New("too short")
	}
	n := int(binary.BigEndian.Uint16(ct))
	if len(ct) < n+2 {
		return nil, nil, errors.New("too short")
	}
	rsaCT, aesCT := ct[2:n+2], ct[n+2:]
	for _, k := range keys {
		sk, err := rsa.DecryptOAEP(sha256.New(), nil, k.priv, rsaCT, lbl)
		if err != nil {
			continue // not this key, or not this scope
		}
		blk, err := aes.NewCipher(sk)
		if err != nil {
			return nil, nil, ErrTampered // OAEP opened, but not a 32-byte key
		}
		g, err := cipher.NewGCM(blk)
		if err != nil {
			return nil, nil, err
		}
		pt, err := g.Open(nil, bytes.Repeat([]byte{0}, g.NonceSize()), aesCT, nil)
		if err != nil {
			return nil, k, fmt.Errorf("key %s: %w", k.Fingerprint, ErrTampered)
		}
		return pt, k, nil
	}
	return nil, nil, ErrNoKey
}

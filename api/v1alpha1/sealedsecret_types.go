package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of SealedSecret.
var GroupVersion = schema.GroupVersion{Group: "kseal.dev", Version: "v1alpha1"}

var (
	// SchemeBuilder registers the types of this package.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &SealedSecret{}, &SealedSecretList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Base64 is standard base64 text.
// +kubebuilder:validation:Pattern=`^[A-Za-z0-9+/]*={0,2}$`
type Base64 string

// SecretTemplate describes the Secret the controller creates.
type SecretTemplate struct {
	// Metadata holds the labels and annotations of the Secret.
	// +optional
	Metadata TemplateMetadata `json:"metadata,omitempty"`
	// Type of the Secret (default Opaque).
	// +optional
	Type corev1.SecretType `json:"type,omitempty"`
	// Immutable makes the Secret immutable.
	// +optional
	Immutable *bool `json:"immutable,omitempty"`
}

// TemplateMetadata is the part of ObjectMeta a template may set.
type TemplateMetadata struct {
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Envelope is the kseal envelope (docs/format.md).
type Envelope struct {
	// Version of the envelope format.
	// +kubebuilder:validation:Enum=2
	Version int `json:"version"`
	// Scope binds the ciphertext: strict (namespace and name), namespace,
	// shared (name only), or cluster.
	// +kubebuilder:validation:Enum=strict;namespace;shared;cluster
	Scope string `json:"scope"`
	// SealedFor records the namespace and name the scope bound and the
	// template's digest when the object was sealed. Nothing opens with it:
	// it only explains a failed commitment (a rename, a changed template)
	// once the data key proves it. Absent in objects sealed before it was
	// written.
	// +optional
	SealedFor *SealedFor `json:"sealedFor,omitempty"`
	// Sections are the data keys with their wraps, removals and
	// commitments, in order.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=255
	Sections []Section `json:"sections"`
}

// SealedFor is what an object was sealed for (docs/format.md): all of it
// public (the object's own namespace and name, a digest of its template).
type SealedFor struct {
	// Namespace the scope bound (strict, namespace), else empty.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// Name the scope bound (strict, shared), else empty.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// Template is the SHA-256 of the template's canonical encoding: 32
	// bytes.
	// +kubebuilder:validation:MinLength=44
	// +kubebuilder:validation:MaxLength=44
	Template Base64 `json:"template"`
}

// Section is one data key.
type Section struct {
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Recipients []Wrap `json:"recipients"`
	// Removed lists the values of earlier sections this section removed;
	// its commitment covers them.
	// +optional
	// +kubebuilder:validation:MaxItems=4096
	Removed []Removal `json:"removed,omitempty"`
	// MAC is the section's commitment (it chains the previous section's):
	// 32 bytes.
	// +kubebuilder:validation:MinLength=44
	// +kubebuilder:validation:MaxLength=44
	MAC Base64 `json:"mac"`
}

// Wrap is a data key wrapped for one recipient.
type Wrap struct {
	// +kubebuilder:validation:MinLength=1
	Type string `json:"type"`
	// +kubebuilder:validation:MinLength=1
	KeyID string `json:"keyID"`
	// Data is the wrapped data key: at most 16 KiB.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=21848
	Data Base64 `json:"data"`
}

// Removal records a value of an earlier section that a later one removed.
type Removal struct {
	Field string `json:"field"`
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=254
	Section int `json:"section"`
	// Digest is the SHA-256 of the removed value: 32 bytes.
	// +kubebuilder:validation:MinLength=44
	// +kubebuilder:validation:MaxLength=44
	Digest Base64 `json:"digest"`
}

// SealedSecretSpec is the sealed content and the template of the Secret.
type SealedSecretSpec struct {
	// Template of the Secret to create.
	// +optional
	Template SecretTemplate `json:"template,omitempty"`
	// EncryptedData holds the sealed values by Secret key.
	// +kubebuilder:validation:MaxProperties=4096
	EncryptedData map[string]Base64 `json:"encryptedData"`
	// Envelope holds the scope, wrapped data keys and commitments.
	Envelope Envelope `json:"envelope"`
}

// Condition types and reasons. The conditions follow the convention Flux
// and kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) read: Ready says whether
// the Secret is up to date; Reconciling (True) says the controller is still
// working on the object or retrying a transient failure; Stalled (True)
// says it cannot make progress until something changes (the object, the
// policy, the keys, or consent on an existing Secret). At most one of
// Reconciling and Stalled is present; neither is once the object is Ready.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"

	ReasonUnsealed         = "Unsealed"
	ReasonNoMatchingKey    = "NoMatchingKey"
	ReasonIntegrityFailed  = "IntegrityFailed"
	ReasonSecretNotOwned   = "SecretNotOwned"
	ReasonInvalid          = "InvalidSealedSecret"
	ReasonDecryptError     = "DecryptError"
	ReasonKeyServiceFailed = "KeyServiceUnavailable"
	ReasonKeyAccessDenied  = "KeyAccessDenied"
	ReasonProgressing      = "Progressing"
	ReasonPolicyDenied     = "PolicyDenied"
	// ReasonTemplateRefused: the template asks for a Secret type or an
	// annotation with side effects the policy does not allow.
	ReasonTemplateRefused = "TemplateRefused"
	// ReasonNamespaceRefused: the controller does not unseal into its own
	// namespace unless its operator allows it.
	ReasonNamespaceRefused = "NamespaceRefused"
	// ReasonReaderGrantRefused: the Secret is unsealed, but the Role or
	// RoleBinding kseal-read-NAME that would let the policy's service
	// accounts read it exists and is not kseal's for this object, so
	// kseal cannot grant the readers.
	ReasonReaderGrantRefused = "ReaderGrantRefused"

	// ConditionPolicy says whether the policy in force is the policy
	// ConfigMap's current content (True, reason PolicyLoaded) or the last
	// valid policy kept because the ConfigMap is invalid or gone (False).
	// It is absent when no policy is configured.
	ConditionPolicy     = "PolicyCurrent"
	ReasonPolicyLoaded  = "PolicyLoaded"
	ReasonPolicyInvalid = "PolicyInvalid"
	ReasonPolicyMissing = "PolicyMissing"
)

// SealedSecretStatus reports the outcome of the last unseal.
type SealedSecretStatus struct {
	// ObservedGeneration is the generation the status describes; -1
	// until the controller has handled the object.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, with a reason; Reconciling while a transient
	// failure is retried; Stalled when unsealing cannot succeed as things
	// stand.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// KeyIDs are the keys the sections were opened with.
	// +optional
	KeyIDs []string `json:"keyIDs,omitempty"`
}

// SealedSecret is a Secret whose values are sealed with kseal; the controller
// unseals it into a Secret of the same name.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kss;ksealed,categories=kseal
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Stalled",type=string,JSONPath=`.status.conditions[?(@.type=="Stalled")].status`,priority=1
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SealedSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec SealedSecretSpec `json:"spec"`
	// Status reports the outcome of the last unseal. It defaults to
	// observedGeneration -1 so that an object the
	// controller has not handled yet reads InProgress to kstatus, not
	// Current.
	// +kubebuilder:default={}
	Status SealedSecretStatus `json:"status,omitempty"`
}

// SealedSecretList is a list of SealedSecrets.
//
// +kubebuilder:object:root=true
type SealedSecretList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SealedSecret `json:"items"`
}

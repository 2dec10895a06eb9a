package v1alpha1

// Names and labels kseal-controller uses in the cluster. They are part of
// the contract between the controller and the kseal CLI (fetch-recipients,
// keys backup).
const (
	// LabelManaged marks every Secret the controller manages; the
	// controller's cache sees only Secrets with this label.
	LabelManaged = "kseal.dev/managed"
	// ManagedClusterKey is LabelManaged's value on cluster key Secrets.
	ManagedClusterKey = "cluster-key"
	// ClusterKeyField is the data key of a cluster key Secret that holds
	// the age identity.
	ClusterKeyField = "identity"
	// ClusterRecipientField is the data key of a cluster key Secret that
	// holds the identity's public recipient (a convenience copy).
	ClusterRecipientField = "recipient"
	// ManagedSecret is LabelManaged's value on unsealed Secrets.
	ManagedSecret = "unsealed"

	// RecipientsConfigMap, in the controller's namespace, publishes the
	// cluster recipients.
	RecipientsConfigMap = "kseal-recipients"
	// RecipientsKey holds the recipient to seal to (the newest key).
	RecipientsKey = "recipients.txt"
	// AllRecipientsKey lists every active key, newest first.
	AllRecipientsKey = "all-recipients.txt"

	// AnnotationAdopt, set to "true" on an existing Secret by whoever may
	// write it, consents to the controller adopting that Secret for the
	// SealedSecret of the same name. The consent lives on the Secret, never
	// on the SealedSecret: a tenant who may create SealedSecrets cannot
	// hand itself a Secret it was not given.
	AnnotationAdopt = "kseal.dev/adopt"

	// AnnotationSealedHash, on an unsealed Secret, is a hash of the
	// SealedSecret spec (ciphertext and template, never plaintext) the
	// Secret was written from. The controller caches its Secrets as
	// metadata only and uses it to see, without the data, whether a
	// Secret still matches its SealedSecret.
	AnnotationSealedHash = "kseal.dev/sealed-hash"
)

// LastAppliedAnnotations are the annotations in which client-side apply
// tools (kubectl, kubecfg) keep a full copy of the object they applied. On
// a Secret that copy holds every value: on a cluster key Secret, the
// private key. The CLI never seals them along; the controller removes them
// from its key Secrets and never caches them.
var LastAppliedAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"kubecfg.ksonnet.io/last-applied-configuration",
}

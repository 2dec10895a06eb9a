package controller

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"kseal.dev/kseal/pkg/keys"
)

// RBAC, least privilege: every verb below is one the code uses (the
// status is only patched; Secrets, Roles and RoleBindings are never
// patched). Secrets need list and watch cluster-wide because the cache
// holds the managed ones of every watched namespace (RBAC cannot select by
// label). core/v1 events are for leader election's Lease events, in the
// controller's namespace only.
// +kubebuilder:rbac:groups=kseal.dev,resources=sealedsecrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=kseal.dev,resources=sealedsecrets/status,verbs=patch
// +kubebuilder:rbac:groups=kseal.dev,resources=sealedsecrets/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch,namespace=kseal-system
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;update,namespace=kseal-system
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update,namespace=kseal-system

// Reconciler unseals SealedSecrets. Its steps live in reconcile.go (the
// decision) and secret.go (the write); each returns an outcome, which
// status.go records.
type Reconciler struct {
	// Client reads through the cache (managed Secrets as metadata only)
	// and writes under FieldManager.
	Client client.Client
	// APIReader is uncached, for Secrets the controller does not own and
	// for the full spec of a stripped SealedSecret.
	APIReader client.Reader
	// Scheme sets the owner references of written Secrets.
	Scheme *runtime.Scheme
	// Recorder emits the events of unseals, denials and failures.
	Recorder events.EventRecorder
	// Keyring holds the cluster keys.
	Keyring *Keyring
	// ExtraIdentities returns identities besides the cluster keys (KMS).
	ExtraIdentities func() []keys.Identity
	// ClusterName is this cluster's name in the policy (its cluster keys).
	ClusterName string
	// RevokeDeletes makes a policy denial delete the Secret the controller
	// wrote earlier; by default it is kept and only the status says so.
	// Only an explicit denial by the valid, current policy deletes.
	RevokeDeletes bool
	// AllowControllerNamespace lets SealedSecrets in the controller's own
	// namespace (its keys live there) be unsealed.
	AllowControllerNamespace bool
	// AdoptRecheck is how often a SealedSecret waiting for consent to adopt
	// an existing Secret looks again (the Secret is not watched).
	AdoptRecheck time.Duration

	policy  *policyStore
	written writtenSecrets
	status  writtenStatus
	// statusREST, when set, sends status patches without decoding the
	// reply (the whole object, ciphertext included): the cache gets the
	// new version from the watch anyway.
	statusREST rest.Interface
}

// outcome is what one reconcile concluded, for the status: every step
// below Reconcile returns one (or nil to go on).
type outcome struct {
	reason  string
	message string
	keyIDs  []string
	err     error         // transient: requeue with backoff
	recheck time.Duration // look again after this long (waiting for consent)
	policy  policyView
}

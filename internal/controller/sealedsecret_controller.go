// Package controller is kseal-controller: it unseals SealedSecrets into
// Secrets with the cluster keypair (and any other registered identity),
// keeps those Secrets as the SealedSecret says, and owns the cluster keys.
package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
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

// Reconciler unseals SealedSecrets.
type Reconciler struct {
	Client    client.Client
	APIReader client.Reader // uncached, for Secrets the controller does not own
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Keyring   *Keyring
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

// outcome is what one reconcile concluded, for the status.
type outcome struct {
	reason  string
	message string
	keyIDs  []string
	err     error         // transient: requeue with backoff
	recheck time.Duration // look again after this long (waiting for consent)
	policy  policyView
}

// Reconcile brings the Secret of one SealedSecret in line with it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	start := time.Now()
	defer func() { reconcileDuration.Observe(time.Since(start).Seconds()) }()

	// The cached object itself, not a deep copy: the reconcile reads its
	// metadata and spec and changes only its status, which it copies first.
	var ss ksealv1.SealedSecret
	if err := r.Client.Get(ctx, req.NamespacedName, &ss, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.forget(req.NamespacedName)
			r.status.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ss.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the owner reference deletes the Secret
	}
	before := ss // shares the cache's maps and slices: read only
	ss.Status = *ss.Status.DeepCopy()
	out := r.reconcile(ctx, &ss)
	if err := r.setStatus(ctx, &before, &ss, out); err != nil {
		return ctrl.Result{}, err
	}
	if out.err == nil && out.recheck > 0 {
		return ctrl.Result{RequeueAfter: out.recheck}, nil
	}
	return ctrl.Result{}, out.err
}

func (r *Reconciler) reconcile(ctx context.Context, ss *ksealv1.SealedSecret) outcome {
	if why := badName(ss); why != "" {
		return outcome{reason: ksealv1.ReasonInvalid, message: why}
	}
	if ss.Namespace == r.Keyring.opts.Namespace && !r.AllowControllerNamespace {
		// Its cluster keys and policy live here: a SealedSecret must not be
		// able to write (or adopt) anything next to them.
		return outcome{reason: ksealv1.ReasonNamespaceRefused, message: fmt.Sprintf("namespace %q is the controller's own; it unseals there only with --allow-controller-namespace", ss.Namespace)}
	}
	// A stripped copy (settled, ciphertext not cached) parsed when it was
	// unsealed; its ciphertext is read and parsed only if it must be
	// decrypted again.
	var sealed *crypto.Sealed
	if !stripped(ss) {
		var err error
		if sealed, err = sealedFromAPI(ss); err != nil {
			return outcome{reason: ksealv1.ReasonInvalid, message: err.Error()}
		}
	}
	view, err := r.policy.current(ctx)
	if err != nil {
		return outcome{reason: ksealv1.ReasonProgressing, message: "reading policy: " + err.Error(), err: err}
	}
	out := r.unseal(ctx, ss, sealed, view)
	out.policy = view
	return out
}

func (r *Reconciler) unseal(ctx context.Context, ss *ksealv1.SealedSecret, sealed *crypto.Sealed, view policyView) outcome {
	if view.failClosed() {
		return r.deny(ctx, ss, view, view.problem)
	}
	identities := r.identities
	var svc *policy.Service
	if view.pol != nil {
		g, err := view.pol.GrantFor(ss.Namespace, ss.Name, crypto.Scope(ss.Spec.Envelope.Scope))
		if err != nil {
			return r.deny(ctx, ss, view, "policy: "+err.Error())
		}
		allowed := r.allowedKeyIDs(view.pol, g.Keys)
		granted := fmt.Sprintf("keys %s under %s", strings.Join(g.Keys, ", "), g.Rule)
		if err := checkGrants(specKeyIDs(ss), allowed, granted, ss.Namespace); err != nil {
			return r.deny(ctx, ss, view, err.Error())
		}
		svc = view.pol.Services[g.Service]
		// Providers with per-service identities unwrap as this service.
		ctx = keys.WithCaller(ctx, keys.Caller{Service: g.Service, Namespace: ss.Namespace, ServiceAccounts: svc.ServiceAccounts, Settings: svc.Providers})
		identities = func() []keys.Identity {
			var out []keys.Identity
			for _, id := range r.identities() {
				out = append(out, grantedIdentity{id, allowed})
			}
			return out
		}
	}
	if err := checkTemplate(svc, ss); err != nil {
		return outcome{reason: ksealv1.ReasonTemplateRefused, message: err.Error()}
	}
	if out := r.stillNotOwned(ctx, ss); out != nil {
		return *out
	}
	if keyIDs, ok := r.upToDate(ctx, ss); ok {
		// The Secret is the one written (or verified) for this very spec:
		// nothing to decrypt, no key service to call.
		return r.done(ctx, ss, view, keyIDs)
	}
	if sealed == nil {
		var out *outcome
		if sealed, out = r.fullSpec(ctx, ss); out != nil {
			return *out
		}
	}
	budget := newUnwrapBudget()
	target := targetOf(ss)
	opened, err := crypto.Open(ctx, sealed, target, budget.Identities(identities()))
	var nm *keys.NoIdentityMatchError
	if errors.As(err, &nm) && nm.Unclaimed() {
		// A key may have been restored or rotated in since the last load.
		if lerr := r.Keyring.Load(ctx); lerr != nil {
			return outcome{reason: ksealv1.ReasonKeyServiceFailed, message: lerr.Error(), err: lerr}
		}
		opened, err = crypto.Open(ctx, sealed, target, budget.Identities(identities()))
	}
	if err != nil {
		return openFailure(err)
	}
	var keyIDs []string
	for _, s := range opened.Sections {
		keyIDs = append(keyIDs, s.KeyID)
	}
	w, out := r.apply(ctx, ss, opened.Values, keyIDs)
	if out != nil {
		return *out
	}
	if w != wroteNothing {
		unsealTotal.Inc()
	}
	if w == wroteChange {
		// A first unseal is announced by the Ready condition alone: an
		// event per new Secret would be a third write per unseal.
		r.Recorder.Eventf(ss, nil, corev1.EventTypeNormal, ksealv1.ReasonUnsealed, "Unseal", "updated Secret %s with keys %s", ss.Name, quoteAll(keyIDs))
	}
	return r.done(ctx, ss, view, keyIDs)
}

// done finishes an unseal whose Secret is right: the reader grants, then
// the outcome.
func (r *Reconciler) done(ctx context.Context, ss *ksealv1.SealedSecret, view policyView, keyIDs []string) outcome {
	if err := r.syncReaders(ctx, view.pol, ss); err != nil {
		var refused *grantRefused
		if errors.As(err, &refused) {
			// Terminal, but the name may be freed without any event the
			// controller sees: look again like a Secret waiting for consent.
			return outcome{reason: ksealv1.ReasonReaderGrantRefused, message: refused.msg, keyIDs: keyIDs, recheck: r.AdoptRecheck}
		}
		return outcome{reason: ksealv1.ReasonProgressing, message: "granting readers: " + err.Error(), err: err}
	}
	return outcome{reason: ksealv1.ReasonUnsealed, message: fmt.Sprintf("Secret %s is up to date", ss.Name), keyIDs: keyIDs}
}

// secretMeta is an empty Secret metadata object: the cache holds unsealed
// Secrets as metadata only (their data stays out of the controller's
// memory) and hands them out in this form.
func secretMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// upToDate says, from the cached metadata alone, whether ss's Secret is
// right for ss's current spec, and returns the key IDs that opened it.
// Either this process wrote or verified that very version of it (its
// memory, by UID and resourceVersion), or — after a restart, a failover or
// a move between shards, when that memory is empty — the Secret records
// the spec it was written for and nobody changed it since (verifiedBefore).
// Either way it needs no key and no read of the Secret or the ciphertext.
func (r *Reconciler) upToDate(ctx context.Context, ss *ksealv1.SealedSecret) ([]string, bool) {
	m := secretMeta()
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(ss), m); err != nil {
		return nil, false
	}
	if !metav1.IsControlledBy(m, ss) {
		return nil, false
	}
	// The labels and annotations the template asks for, and the
	// sealed-hash annotation of the current spec.
	want := r.desired(ss, nil)
	if !sameMeta(m, want.Labels, want.Annotations) {
		return nil, false
	}
	if keyIDs, ok := r.written.get(m); ok {
		return keyIDs, true
	}
	// Another version than the one this process wrote or verified: read
	// and compare it. Managed fields are only trusted when there is no
	// memory to go by (a restart): anyone who may write the Secret can
	// name kseal-controller as the field manager of an edit.
	if r.written.known(client.ObjectKeyFromObject(m)) {
		return nil, false
	}
	keyIDs, ok := verifiedBefore(m, ss)
	if ok {
		r.written.set(m, keyIDs)
	}
	return keyIDs, ok
}

// verifiedBefore says whether the Secret m, which is controlled by ss and
// carries the sealed-hash of ss's current spec, was left as the controller
// wrote it, and returns the key IDs the status recorded for this spec.
// The sealed-hash is written only with values that spec opened to (it
// covers the ciphertext and the template), and the managed fields show
// that no one but the controller set the content since (contentOurs). The
// key IDs must be the status's for this very generation and name, section
// by section, a key the spec wraps for; otherwise (a status lost in a
// crash after the Secret was written) the slow path decrypts once.
// Nothing here proves the values right, only that the values the
// controller wrote for this spec are still there, untouched by any other
// field manager.
func verifiedBefore(m *metav1.PartialObjectMetadata, ss *ksealv1.SealedSecret) ([]string, bool) {
	// The controller's writes still own exactly the spec's value names: a
	// key removed by someone else has left its entry.
	owned, ok := m.Annotations[annotationCachedContentOurs]
	if !ok || owned != specNamesDigest(ss) || ss.Status.ObservedGeneration != ss.Generation {
		return nil, false
	}
	keyIDs, wraps := ss.Status.KeyIDs, specKeyIDs(ss)
	if len(keyIDs) != len(wraps) {
		return nil, false
	}
	for i, id := range keyIDs {
		if !slices.Contains(wraps[i], id) {
			return nil, false
		}
	}
	return keyIDs, true
}

// stillNotOwned, for an object waiting for its Secret's owner to consent
// (Ready reason SecretNotOwned, rechecked every AdoptRecheck), looks at the
// Secret before any key is used: waiting must cost one read, not a KMS call
// per section per recheck.
func (r *Reconciler) stillNotOwned(ctx context.Context, ss *ksealv1.SealedSecret) *outcome {
	if c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReady); c == nil || c.Reason != ksealv1.ReasonSecretNotOwned {
		return nil
	}
	var cur corev1.Secret
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ss.Namespace, Name: ss.Name}, &cur)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return &outcome{reason: ksealv1.ReasonProgressing, message: "reading Secret: " + err.Error(), err: err}
	}
	return r.notOwned(&cur, ss)
}

// notOwned says why the existing Secret cur may not be written for ss
// (SecretNotOwned, rechecked every AdoptRecheck), or nil when ss controls
// it or its owner consented to hand it over.
func (r *Reconciler) notOwned(cur *corev1.Secret, ss *ksealv1.SealedSecret) *outcome {
	if metav1.IsControlledBy(cur, ss) {
		return nil
	}
	if why := adoptRefusal(cur); why != "" {
		return &outcome{reason: ksealv1.ReasonSecretNotOwned, message: why, recheck: r.AdoptRecheck}
	}
	return nil
}

// checkTemplate refuses templates whose Secret would have side effects the
// policy does not allow for svc (nil: no policy, the defaults apply).
func checkTemplate(svc *policy.Service, ss *ksealv1.SealedSecret) error {
	t := ss.Spec.Template
	typ := string(t.Type)
	if typ == "" {
		typ = string(corev1.SecretTypeOpaque)
	}
	if err := policy.CheckTemplate(svc, typ, t.Metadata.Annotations); err != nil {
		return fmt.Errorf("spec.template: %w", err)
	}
	return nil
}

func (r *Reconciler) identities() []keys.Identity {
	ids := r.Keyring.Identities()
	if r.ExtraIdentities != nil {
		ids = append(ids, r.ExtraIdentities()...)
	}
	return ids
}

// deny records a policy denial. With RevokeDeletes, and only when the
// denial comes from the valid policy currently in the ConfigMap, it also
// removes the Secret (and its reader grants) the controller wrote before: a
// broken or missing policy never deletes.
func (r *Reconciler) deny(ctx context.Context, ss *ksealv1.SealedSecret, view policyView, msg string) outcome {
	if r.RevokeDeletes && !view.mayRevoke() {
		msg += "; its Secret is kept: --policy-revoke-deletes acts only on a denial by a valid, current policy"
	}
	if r.RevokeDeletes && view.mayRevoke() {
		cur := secretMeta()
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: ss.Namespace, Name: ss.Name}, cur)
		if err == nil && metav1.IsControlledBy(cur, ss) {
			r.written.forget(client.ObjectKeyFromObject(ss))
			if err := r.Client.Delete(ctx, cur, client.Preconditions{UID: &cur.UID}); err != nil && !apierrors.IsNotFound(err) {
				return outcome{reason: ksealv1.ReasonProgressing, message: "revoking Secret: " + err.Error(), err: err}
			}
			r.Recorder.Eventf(ss, nil, corev1.EventTypeWarning, ksealv1.ReasonPolicyDenied, "Revoke", "deleted Secret %s: the policy no longer grants it", ss.Name)
		}
		msg += "; its Secret is deleted (--policy-revoke-deletes)"
		if err := r.syncReaders(ctx, nil, ss); err != nil {
			return outcome{reason: ksealv1.ReasonProgressing, message: "revoking readers: " + err.Error(), err: err}
		}
	}
	return outcome{reason: ksealv1.ReasonPolicyDenied, message: msg}
}

func openFailure(err error) outcome {
	var nm *keys.NoIdentityMatchError
	switch {
	case errors.Is(err, keys.ErrUnavailable):
		return outcome{reason: ksealv1.ReasonKeyServiceFailed, message: err.Error(), err: err}
	case errors.Is(err, keys.ErrAccessDenied):
		return outcome{reason: ksealv1.ReasonKeyAccessDenied, message: err.Error()}
	case errors.Is(err, crypto.ErrIntegrity):
		return outcome{reason: ksealv1.ReasonIntegrityFailed, message: err.Error()}
	case errors.Is(err, keys.ErrUnwrapBudget):
		return outcome{reason: ksealv1.ReasonDecryptError, message: err.Error()}
	case errors.Is(err, keys.ErrWrongBinding):
		// A key service refusing the binding is a wrap moved to another
		// object (or tampered with): as final as a failed MAC.
		return outcome{reason: ksealv1.ReasonIntegrityFailed, message: err.Error()}
	case errors.Is(err, crypto.ErrFormat):
		return outcome{reason: ksealv1.ReasonInvalid, message: err.Error()}
	case errors.As(err, &nm) && nm.Unclaimed():
		return outcome{reason: ksealv1.ReasonNoMatchingKey, message: err.Error()}
	}
	return outcome{reason: ksealv1.ReasonDecryptError, message: err.Error()}
}

// What apply wrote.
type wrote int

const (
	wroteNothing wrote = iota
	wroteNew           // created the Secret
	wroteChange        // changed (updated, replaced or adopted) an existing one
)

// apply creates or updates the Secret. It returns what it wrote, or an
// outcome when it must not or could not. The cache holds metadata only, so
// an existing Secret is read in full from the API server; that happens
// only when the cheap check (upToDate) could not vouch for it.
func (r *Reconciler) apply(ctx context.Context, ss *ksealv1.SealedSecret, values map[string][]byte, keyIDs []string) (wrote, *outcome) {
	want := r.desired(ss, values)
	key := client.ObjectKeyFromObject(want)
	err := r.Client.Get(ctx, key, secretMeta()) // cache: managed Secrets only
	if apierrors.IsNotFound(err) {
		r.written.creating(key, ss.UID)
		if err = r.Client.Create(ctx, want); err == nil {
			r.written.set(want, keyIDs)
			return wroteNew, nil
		}
		r.written.forget(key)
		if !apierrors.IsAlreadyExists(err) {
			return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "creating Secret: " + err.Error(), err: err}
		}
		// It exists but is not managed (so not in the cache).
	} else if err != nil {
		return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "reading Secret: " + err.Error(), err: err}
	}
	var cur corev1.Secret
	if err := r.APIReader.Get(ctx, key, &cur); err != nil {
		// Not found: deleted since the cache saw it; the retry creates it.
		return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "reading Secret: " + err.Error(), err: err}
	}
	if out := r.notOwned(&cur, ss); out != nil {
		return wroteNothing, out
	}
	if !metav1.IsControlledBy(&cur, ss) {
		log.FromContext(ctx).Info("adopting Secret: its owner consented", "secret", cur.Namespace+"/"+cur.Name, "annotation", ksealv1.AnnotationAdopt)
	}
	if same(&cur, want) {
		r.written.set(&cur, keyIDs)
		return wroteNothing, nil
	}
	if cur.Immutable != nil && *cur.Immutable && !sameContent(&cur, want) {
		// An immutable Secret's data and type cannot be changed, only
		// replaced. Its metadata can: a Secret handed over with the same
		// content (an adoption, a label change) is updated in place and
		// never disappears.
		if err := r.Client.Delete(ctx, &cur, client.Preconditions{UID: &cur.UID}); err != nil && !apierrors.IsNotFound(err) {
			return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "replacing immutable Secret: " + err.Error(), err: err}
		}
		if err := r.Client.Create(ctx, want); err != nil {
			return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "replacing immutable Secret: " + err.Error(), err: err}
		}
		r.written.set(want, keyIDs)
		return wroteChange, nil
	}
	cur.Labels, cur.Annotations, cur.Type, cur.Immutable, cur.Data, cur.StringData = want.Labels, want.Annotations, want.Type, want.Immutable, want.Data, nil
	cur.OwnerReferences = want.OwnerReferences
	if err := r.Client.Update(ctx, &cur); err != nil {
		return wroteNothing, &outcome{reason: ksealv1.ReasonProgressing, message: "updating Secret: " + err.Error(), err: err}
	}
	r.written.set(&cur, keyIDs)
	return wroteChange, nil
}

// desired is the Secret the SealedSecret describes.
func (r *Reconciler) desired(ss *ksealv1.SealedSecret, values map[string][]byte) *corev1.Secret {
	t := ss.Spec.Template
	labels := maps.Clone(t.Metadata.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManaged] = ManagedSecret
	typ := t.Type
	if typ == "" {
		typ = corev1.SecretTypeOpaque
	}
	annotations := maps.Clone(t.Metadata.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[ksealv1.AnnotationSealedHash] = specHash(ss)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: ss.Name, Namespace: ss.Namespace, Labels: labels, Annotations: annotations},
		Type:       typ,
		Immutable:  t.Immutable,
		Data:       values,
	}
	_ = controllerutil.SetControllerReference(ss, s, r.Scheme)
	return s
}

func same(cur, want *corev1.Secret) bool {
	return maps.Equal(cur.Labels, want.Labels) && maps.Equal(cur.Annotations, want.Annotations) &&
		sameContent(cur, want) &&
		len(cur.OwnerReferences) == len(want.OwnerReferences) && metav1.IsControlledBy(cur, &metav1.ObjectMeta{UID: want.OwnerReferences[0].UID})
}

// sameContent: what an immutable Secret keeps for good (type, data, the
// flag itself) is what want holds.
func sameContent(cur, want *corev1.Secret) bool {
	return cur.Type == want.Type && boolEq(cur.Immutable, want.Immutable) && len(cur.StringData) == 0 &&
		maps.EqualFunc(cur.Data, want.Data, func(a, b []byte) bool { return string(a) == string(b) })
}

func boolEq(a, b *bool) bool {
	return (a != nil && *a) == (b != nil && *b)
}

// SetupWithManager registers the reconciler: SealedSecrets (spec or
// annotation changes), the Secrets they own (drift repair), and cluster key
// Secrets (re-try objects no key could open).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&ksealv1.SealedSecret{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, annotationsChanged()))).
		// Unsealed Secrets: metadata only, and not the versions this
		// controller just wrote (the reconcile that wrote them is done).
		Owns(&corev1.Secret{}, builder.OnlyMetadata, builder.WithPredicates(r.notOwnWrite())).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.policyChanged), builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetNamespace() == r.Keyring.opts.Namespace && o.GetName() == PolicyConfigMap
		}))).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.keyChanged), builder.OnlyMetadata, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetNamespace() == r.Keyring.opts.Namespace && o.GetLabels()[LabelManaged] == ManagedClusterKey
		}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Named("sealedsecret").
		Complete(r)
}

// notOwnWrite drops the watch events of the Secret versions the controller
// wrote itself: re-reconciling them would only decrypt again, and, with the
// cache not yet holding the new status, write the status a second time.
// Edits and deletions by anyone else still come through.
func (r *Reconciler) notOwnWrite() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return !r.written.own(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool { return !r.written.own(e.ObjectNew) },
	}
}

// policyChanged enqueues every SealedSecret: grants may have changed.
func (r *Reconciler) policyChanged(ctx context.Context, _ client.Object) []ctrl.Request {
	var list ksealv1.SealedSecretList
	if err := r.Client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil { // read only
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, ss := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ss.Namespace, Name: ss.Name}})
	}
	return reqs
}

// keyChanged enqueues every SealedSecret that no key could open.
func (r *Reconciler) keyChanged(ctx context.Context, _ client.Object) []ctrl.Request {
	if err := r.Keyring.Load(ctx); err != nil {
		log.FromContext(ctx).Error(err, "reloading cluster keys")
	}
	var list ksealv1.SealedSecretList
	if err := r.Client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil { // read only
		return nil
	}
	var reqs []ctrl.Request
	for _, ss := range list.Items {
		if c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReady); c != nil && c.Reason == ksealv1.ReasonNoMatchingKey {
			reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ss.Namespace, Name: ss.Name}})
		}
	}
	return reqs
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

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

package controller

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// setStatus records the outcome and emits a warning event when it is new.
// The message and key IDs pass through printable: they carry text from
// the object (key IDs and wrap types of the envelope, template keys and
// values, names in owner references) and from key services, and they are
// shown on terminals by kubectl, event and log viewers.
func (r *Reconciler) setStatus(ctx context.Context, before, ss *ksealv1.SealedSecret, out outcome) error {
	out.message = printable(out.message)
	if out.keyIDs != nil {
		out.keyIDs = printableAll(out.keyIDs)
	}
	cond := metav1.Condition{Type: ksealv1.ConditionReady, Status: metav1.ConditionFalse, Reason: out.reason, Message: out.message, ObservedGeneration: ss.Generation}
	if out.reason == ksealv1.ReasonUnsealed {
		cond.Status = metav1.ConditionTrue
	} else {
		unsealErrors.WithLabelValues(out.reason).Inc()
		prev := meta.FindStatusCondition(before.Status.Conditions, ksealv1.ConditionReady)
		if prev == nil || prev.Reason != out.reason || prev.Message != out.message || prev.ObservedGeneration != ss.Generation {
			r.Recorder.Eventf(ss, nil, corev1.EventTypeWarning, out.reason, "Unseal", "%s", out.message)
			log.FromContext(ctx).Info("unseal failed", "reason", out.reason, "message", out.message, "transient", out.err != nil)
		}
	}
	meta.SetStatusCondition(&ss.Status.Conditions, cond)
	setProgress(&ss.Status.Conditions, out, ss.Generation)
	if pc := out.policy.condition(ss.Generation); pc != nil {
		meta.SetStatusCondition(&ss.Status.Conditions, *pc)
	} else if out.policy.state == policyNone {
		meta.RemoveStatusCondition(&ss.Status.Conditions, ksealv1.ConditionPolicy)
	}
	ss.Status.ObservedGeneration = ss.Generation
	if out.keyIDs != nil || out.reason != ksealv1.ReasonKeyServiceFailed {
		ss.Status.KeyIDs = out.keyIDs
	}
	if equalStatus(before.Status, ss.Status) || r.status.same(ss) {
		return nil
	}
	if err := r.patchStatus(ctx, before, ss); err != nil {
		return err
	}
	r.status.set(ss)
	return nil
}

// patchStatus sends the change from before to ss's status as a merge patch
// of the status subresource.
func (r *Reconciler) patchStatus(ctx context.Context, before, ss *ksealv1.SealedSecret) error {
	// The patch is computed between two status-only copies: cheaper than
	// between whole objects, and the same patch. ss shares its metadata and
	// spec with the cache, so no reply may be decoded into it.
	from := &ksealv1.SealedSecret{Status: before.Status}
	to := &ksealv1.SealedSecret{Status: ss.Status}
	if r.statusREST == nil {
		meta := metav1.ObjectMeta{Namespace: ss.Namespace, Name: ss.Name}
		from.ObjectMeta, to.ObjectMeta = meta, meta
		return r.Client.Status().Patch(ctx, to, client.MergeFrom(from))
	}
	data, err := client.MergeFrom(from).Data(to)
	if err != nil {
		return err
	}
	return r.statusREST.Patch(types.MergePatchType).Namespace(ss.Namespace).Resource("sealedsecrets").Name(ss.Name).
		SubResource("status").Body(data).Do(ctx).Error()
}

// setProgress sets the kstatus conditions: Reconciling while a transient
// failure is retried (out.err), Stalled for an outcome that no retry can
// change (a terminal reason), neither once the Secret is up to date. Without
// them, tools reading the kstatus convention (Flux, kpt, Argo CD's health
// checks built on it) would call a SealedSecret that can never unseal
// Current.
func setProgress(conds *[]metav1.Condition, out outcome, gen int64) {
	set := func(typ string) {
		meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: out.reason, Message: out.message, ObservedGeneration: gen})
	}
	switch {
	case out.reason == ksealv1.ReasonUnsealed:
		meta.RemoveStatusCondition(conds, ksealv1.ConditionReconciling)
		meta.RemoveStatusCondition(conds, ksealv1.ConditionStalled)
	case out.err != nil:
		meta.RemoveStatusCondition(conds, ksealv1.ConditionStalled)
		set(ksealv1.ConditionReconciling)
	default:
		meta.RemoveStatusCondition(conds, ksealv1.ConditionReconciling)
		set(ksealv1.ConditionStalled)
	}
}

func equalStatus(a, b ksealv1.SealedSecretStatus) bool {
	if a.ObservedGeneration != b.ObservedGeneration || len(a.Conditions) != len(b.Conditions) || !slices.Equal(a.KeyIDs, b.KeyIDs) {
		return false
	}
	for i := range a.Conditions {
		x, y := a.Conditions[i], b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message || x.ObservedGeneration != y.ObservedGeneration {
			return false
		}
	}
	return true
}

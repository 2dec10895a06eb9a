package controller

import (
	"context"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

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

// annotationsChanged is predicate.AnnotationChangedPredicate without the
// annotation the cache transform adds: stripping an object that just
// settled is no change to reconcile.
func annotationsChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld == nil || e.ObjectNew == nil {
			return false
		}
		return !equalButCachedSpec(e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations())
	}}
}

// equalButCachedSpec compares annotations but for those the cache
// transforms add (annotationCachedSpec, annotationCachedNames: the
// "kseal.dev/cached:" prefix, which no object can carry).
func equalButCachedSpec(a, b map[string]string) bool {
	without := func(m map[string]string) map[string]string {
		if _, ok := m[annotationCachedSpec]; !ok {
			return m
		}
		m = maps.Clone(m)
		maps.DeleteFunc(m, func(k, _ string) bool { return strings.HasPrefix(k, cachedPrefix) })
		return m
	}
	return maps.Equal(without(a), without(b))
}

package controller

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// cacheOptions says what the manager's cache holds: the SealedSecrets of
// shard (nil: all), and only the Secrets, Roles and RoleBindings labelled
// kseal.dev/managed, each stripped by its transform.
func cacheOptions(o Options, shard labels.Selector) (cache.Options, error) {
	managed, err := labels.NewRequirement(LabelManaged, selection.Exists, nil)
	if err != nil {
		return cache.Options{}, err
	}
	sel := labels.NewSelector().Add(*managed)
	// Unsealed Secrets are watched as metadata only (see
	// Reconciler.SetupWithManager), and of those the cache keeps only
	// kseal's label, the controller reference and a digest of the rest
	// (stripSecret): a tenant's labelled Secrets cost it a few hundred
	// bytes each, whatever they hold. Nothing cached keeps its managed fields,
	// and SealedSecrets drop kubectl's last-applied copy of themselves and,
	// once settled, their ciphertext (see stripSealedSecret).
	copts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			// A shard sees only its SealedSecrets: a reconcile of any other
			// (a Secret event maps to its owner) finds nothing and does
			// nothing. Secrets carry no shard label; every shard caches the
			// stripped metadata of all managed ones.
			&ksealv1.SealedSecret{}: {Label: shard, Transform: stripSealedSecret},
			&corev1.Secret{}:        {Label: sel, Transform: stripSecret},
			&rbacv1.Role{}:          {Label: sel, Transform: cache.TransformStripManagedFields()},
			&rbacv1.RoleBinding{}:   {Label: sel, Transform: cache.TransformStripManagedFields()},
			&corev1.ConfigMap{}:     {Namespaces: map[string]cache.Config{o.Namespace: {}}, Transform: cache.TransformStripManagedFields()},
		},
	}
	if len(o.WatchNamespaces) > 0 {
		copts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range append(o.WatchNamespaces, o.Namespace) {
			copts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return copts, nil
}

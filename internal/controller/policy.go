package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch,namespace=kseal-system
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;delete

// allowedKeyIDs returns the key IDs of the named keys: this cluster's keys
// for a cluster key of this cluster, the key's own ID otherwise.
func (r *Reconciler) allowedKeyIDs(p *policy.Policy, names []string) map[string]bool {
	allowed := map[string]bool{}
	for _, n := range names {
		if k := p.Keys[n]; k.Cluster != "" {
			if k.Cluster == r.ClusterName {
				for _, id := range r.Keyring.KeyIDs() {
					allowed[id] = true
				}
			}
			continue
		}
		_, ids := p.KeyIDs(n)
		for _, id := range ids {
			allowed[id] = true
		}
	}
	return allowed
}

// checkGrants denies an object any of whose sections has no wrap for a
// granted key, before any key is used.
func checkGrants(sealedKeyIDs [][]string, allowed map[string]bool, granted, ns string) error {
	for i, ids := range sealedKeyIDs {
		if !slices.ContainsFunc(ids, func(id string) bool { return allowed[id] }) {
			return fmt.Errorf("policy: section %d is sealed to %s, none of which is granted to namespace %q (granted: %s)", i, quoteAll(ids), ns, granted)
		}
	}
	return nil
}

// grantedIdentity hides stanzas of keys the policy does not grant, so a
// namespace can never make the controller use another namespace's key.
type grantedIdentity struct {
	keys.Identity
	allowed map[string]bool
}

// Remote passes on whether the wrapped identity is remote.
func (g grantedIdentity) Remote() bool { return keys.IsRemote(g.Identity) }

func (g grantedIdentity) Unwrap(ctx context.Context, s *keys.Stanza, b keys.Binding) ([]byte, error) {
	if !g.allowed[s.KeyID] {
		return nil, keys.ErrIncorrectIdentity
	}
	return g.Identity.Unwrap(ctx, s, b)
}

// readerName names the Role and RoleBinding that let a service's accounts
// read one unsealed Secret.
func readerName(secret string) string { return "kseal-read-" + secret }

// syncReaders maintains a Role granting get on the Secret and a RoleBinding
// to the service accounts the policy lists for the namespace's service; it
// removes both when the policy lists none.
func (r *Reconciler) syncReaders(ctx context.Context, p *policy.Policy, ss *ksealv1.SealedSecret) error {
	var sas []string
	if p != nil {
		if sn := p.ServiceOwning(ss.Namespace); sn != "" {
			sas = p.Services[sn].ServiceAccounts
		}
	}
	meta := metav1.ObjectMeta{Name: readerName(ss.Name), Namespace: ss.Namespace, Labels: map[string]string{LabelManaged: "reader"}}
	role := &rbacv1.Role{ObjectMeta: meta}
	binding := &rbacv1.RoleBinding{ObjectMeta: *meta.DeepCopy()}
	if len(sas) == 0 {
		// The cache holds the grants kseal made: look before deleting, so
		// the common case (no service accounts) costs no API call.
		for _, o := range []client.Object{binding, role} {
			err := r.Client.Get(ctx, client.ObjectKeyFromObject(o), o)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err == nil && !metav1.IsControlledBy(o, ss) {
				continue // not kseal's grant for this SealedSecret: leave it alone
			}
			if err == nil {
				err = r.Client.Delete(ctx, o, client.Preconditions{UID: ptrUID(o)})
			}
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
		return nil
	}
	if err := writeGrant(ctx, r, ss, role, sas, func() {
		role.Rules = []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{ss.Name}, Verbs: []string{"get"}}}
	}); err != nil {
		return err
	}
	return writeGrant(ctx, r, ss, binding, sas, func() {
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}
		binding.Subjects = nil
		for _, sa := range slices.Sorted(slices.Values(sas)) {
			binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ss.Namespace})
		}
	})
}

// grantRefused: a reader grant cannot be written as things stand: its name
// is taken by a Role or RoleBinding kseal did not make for this object. No
// retry changes that; the reconcile reports it as ReasonReaderGrantRefused
// and looks again every AdoptRecheck, since the foreign object may not be
// in the cache and nothing else would notice its removal.
type grantRefused struct{ msg string }

func (e *grantRefused) Error() string { return e.msg }

// writeGrant creates or updates the reader grant o (a Role or RoleBinding
// named readerName(ss.Name), labelled managed=reader) with set applied. The
// cache sees only labelled objects: one kseal did not label is found by the
// create failing, then read from the API server. Only an object ss
// controls is written; one that lost its label gets it back.
func writeGrant[T any, P interface {
	*T
	client.Object
}](ctx context.Context, r *Reconciler, ss *ksealv1.SealedSecret, o P, sas []string, set func()) error {
	kind := "Role"
	if _, ok := any(o).(*rbacv1.RoleBinding); ok {
		kind = "RoleBinding"
	}
	key, labels := client.ObjectKeyFromObject(o), o.GetLabels()
	err := r.Client.Get(ctx, key, o)
	if apierrors.IsNotFound(err) {
		set()
		if err = controllerutil.SetControllerReference(ss, o, r.Scheme); err != nil {
			return err
		}
		if err = r.Client.Create(ctx, o); !apierrors.IsAlreadyExists(err) {
			if err != nil {
				return fmt.Errorf("creating %s %s: %w", kind, key.Name, err)
			}
			return nil
		}
		// There, but not in the cache: not labelled as kseal's. Read into
		// a zero object: decoding into o would keep the owner reference
		// just set wherever the stored object has none.
		var cur T
		err = r.APIReader.Get(ctx, key, P(&cur))
		*o = cur
	}
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", kind, key.Name, err)
	}
	if !metav1.IsControlledBy(o, ss) {
		return &grantRefused{fmt.Sprintf("%s %s exists in namespace %s and was not made by kseal for this SealedSecret, so kseal cannot let service accounts %s read Secret %s; kseal leaves it alone: rename or delete it and kseal grants the readers (it looks again every %v)",
			kind, key.Name, key.Namespace, quoteAll(sas), ss.Name, r.AdoptRecheck)}
	}
	before := o.DeepCopyObject()
	o.SetLabels(mergeLabels(o.GetLabels(), labels))
	set()
	if equality.Semantic.DeepEqual(before, o) {
		return nil
	}
	if err := r.Client.Update(ctx, o); err != nil {
		return fmt.Errorf("updating %s %s: %w", kind, key.Name, err)
	}
	return nil
}

// mergeLabels returns cur with want's labels set (a new map).
func mergeLabels(cur, want map[string]string) map[string]string {
	out := maps.Clone(cur)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, want)
	return out
}

func ptrUID(o client.Object) *types.UID {
	uid := o.GetUID()
	return &uid
}

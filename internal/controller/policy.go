package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/policy"
)

// PolicyConfigMap, in the controller's namespace, holds kseal.yaml under
// PolicyKey. Without it (and without a kept copy, below) every namespace may
// use every key. PolicyAppliedConfigMap is the controller's copy of the last
// valid policy, so that a typo or a deleted ConfigMap never switches
// enforcement off, not even across restarts.
const (
	PolicyConfigMap        = "kseal-policy"
	PolicyAppliedConfigMap = "kseal-policy-applied"
	PolicyKey              = "kseal.yaml"
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
			return fmt.Errorf("policy: section %d is sealed to %s, none of which is granted to namespace %q (granted: %s)", i, strings.Join(ids, ", "), ns, granted)
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
	if _, err := controllerutil.CreateOrUpdate(ctx, r.Client, role, func() error {
		if err := ownedOrNew(role, ss); err != nil {
			return err
		}
		role.Rules = []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{ss.Name}, Verbs: []string{"get"}}}
		return controllerutil.SetControllerReference(ss, role, r.Scheme)
	}); err != nil {
		return fmt.Errorf("writing Role %s: %w", role.Name, err)
	}
	if _, err := controllerutil.CreateOrUpdate(ctx, r.Client, binding, func() error {
		if err := ownedOrNew(binding, ss); err != nil {
			return err
		}
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}
		binding.Subjects = nil
		for _, sa := range slices.Sorted(slices.Values(sas)) {
			binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ss.Namespace})
		}
		return controllerutil.SetControllerReference(ss, binding, r.Scheme)
	}); err != nil {
		return fmt.Errorf("writing RoleBinding %s: %w", binding.Name, err)
	}
	return nil
}

// ownedOrNew refuses to take over an existing Role or RoleBinding of the
// reader-grant name that kseal did not make for this SealedSecret: the
// name is predictable, so one may already exist for another purpose.
func ownedOrNew(o client.Object, ss *ksealv1.SealedSecret) error {
	if o.GetResourceVersion() != "" && !metav1.IsControlledBy(o, ss) {
		return fmt.Errorf("%s exists and was not made by kseal for this SealedSecret; kseal leaves it alone (rename or delete it to let kseal grant readers)", o.GetName())
	}
	return nil
}

func ptrUID(o client.Object) *types.UID {
	uid := o.GetUID()
	return &uid
}

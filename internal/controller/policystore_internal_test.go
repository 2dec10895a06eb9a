package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"kseal.dev/kseal/pkg/policy"
)

// cmStub serves ConfigMaps from a map.
type cmStub struct {
	client.Client
	cms map[string]*corev1.ConfigMap
}

func (c *cmStub) set(name, rv, text string) {
	cm := &corev1.ConfigMap{Data: map[string]string{PolicyKey: text}}
	cm.Name, cm.ResourceVersion = name, rv
	c.cms[name] = cm
}

func (c *cmStub) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	cm, ok := c.cms[key.Name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
	}
	cm.DeepCopyInto(obj.(*corev1.ConfigMap))
	return nil
}

func (c *cmStub) Create(_ context.Context, obj client.Object, _ ...client.CreateOption) error {
	c.cms[obj.GetName()] = obj.(*corev1.ConfigMap).DeepCopy()
	return nil
}

func (c *cmStub) Update(ctx context.Context, obj client.Object, o ...client.UpdateOption) error {
	return c.Create(ctx, obj)
}

// lockProbe records whether the store held its lock while reading.
type lockProbe struct {
	client.Client
	s        *policyStore
	unlocked int
}

func (c *lockProbe) Get(ctx context.Context, key client.ObjectKey, obj client.Object, o ...client.GetOption) error {
	if c.s.mu.TryLock() {
		c.s.mu.Unlock()
		c.unlocked++
	}
	return c.Client.Get(ctx, key, obj, o...)
}

// TestPolicyIsReadUnderTheLock: current() reads the ConfigMap while holding
// the store's lock, so reconciles take the cache's versions in order and a
// stale read cannot make an older policy the last valid one again (a
// reconcile that read v1 and took the lock after v2 and a broken v3 would
// otherwise have brought v1 back).
//
// Guard: the Get inside s.mu in current().
func TestPolicyIsReadUnderTheLock(t *testing.T) {
	stub := &cmStub{cms: map[string]*corev1.ConfigMap{}}
	s := &policyStore{namespace: "kseal-system"}
	probe := &lockProbe{Client: stub, s: s}
	s.client = probe
	stub.set(PolicyConfigMap, "1", "apiVersion: kseal.dev/v1alpha1\nkind: Policy\n")
	if _, err := s.current(context.Background()); err != nil {
		t.Fatal(err)
	}
	if probe.unlocked > 0 {
		t.Fatalf("%d ConfigMap reads happened without the store's lock", probe.unlocked)
	}
}

// TestForCluster: a policy that grants cluster keys must name this
// controller's cluster and grant one of its keys; otherwise every object
// sealed to the cluster keys would look explicitly denied (and be deleted
// with --policy-revoke-deletes). Policies with KMS keys only need nothing.
//
// Guard: forCluster.
func TestForCluster(t *testing.T) {
	const head = "apiVersion: kseal.dev/v1alpha1\nkind: Policy\n"
	for _, tc := range []struct {
		name, text, cluster string
		ok                  bool
	}{
		{"ours", head + "clusters: {test: {recipientsFile: t.pub}}\nkeys: {c: {cluster: test}}\n", "test", true},
		{"no --cluster-name", head + "clusters: {test: {recipientsFile: t.pub}}\nkeys: {c: {cluster: test}}\n", "", false},
		{"renamed", head + "clusters: {prod: {recipientsFile: p.pub}}\nkeys: {c: {cluster: prod}}\n", "test", false},
		{"listed but not granted", head + "clusters: {test: {recipientsFile: t.pub}, prod: {recipientsFile: p.pub}}\nkeys: {c: {cluster: prod}}\n", "test", false},
		{"KMS keys only", head + "keys: {k: {awsKms: \"arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555\"}}\n", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.ParseInCluster([]byte(tc.text), "kseal.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if err := forCluster(p, tc.cluster); (err == nil) != tc.ok {
				t.Fatalf("forCluster: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

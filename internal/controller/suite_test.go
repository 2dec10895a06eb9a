package controller_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/internal/envtestutil"
	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	_ "kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/keys/awskms"
	"kseal.dev/kseal/pkg/keys/gcpkms"
	"kseal.dev/kseal/pkg/manifest"
)

const (
	awsKey = "arn:aws:kms:eu-central-1:111122223333:key/aaaaaaaa-0000-4000-8000-000000000001"
	// awsKey2 is a second AWS KMS key (another service's, in policy tests).
	awsKey2 = "arn:aws:kms:eu-central-1:111122223333:key/aaaaaaaa-0000-4000-8000-000000000002"
	gcpKey  = "projects/kseal/locations/europe-west1/keyRings/cluster/cryptoKeys/unseal"
)

var (
	awsKMS  *kmstest.AWS
	gcpKMS  *kmstest.GCP
	testEnv *envtest.Environment
	cfg     *rest.Config
	k8s     client.Client
)

// TestMain starts one real kube-apiserver and etcd for the package. Each test
// runs its own controller watching its own namespaces.
func TestMain(m *testing.M) {
	testEnv, cfg = envtestutil.Start(m)
	var err error
	if testEnv != nil {
		if k8s, err = client.New(cfg, client.Options{Scheme: controller.Scheme()}); err != nil {
			panic(err)
		}
	}
	if awsKMS, err = kmstest.NewAWS(awsKey, awsKey2); err != nil {
		panic(err)
	}
	if gcpKMS, err = kmstest.NewGCP(gcpKey); err != nil {
		panic(err)
	}
	for _, env := range []map[string]string{awsKMS.Env(), gcpKMS.Env()} {
		for k, v := range env {
			os.Setenv(k, v)
		}
	}
	code := m.Run()
	if testEnv != nil {
		_ = testEnv.Stop()
	}
	os.Exit(code)
}

// needsAPIServer skips a test that needs the API server under -short; every
// such test calls it first (newFixture does too).
func needsAPIServer(t *testing.T) {
	t.Helper()
	envtestutil.Require(t, testEnv)
}

var nsCounter atomic.Int64

// fixture is one test's namespaces and controller.
type fixture struct {
	t      *testing.T
	ns     string // where SealedSecrets live
	ctrlNS string // the controller's namespace
	stop   context.CancelFunc
	done   chan error
	mgr    ctrl.Manager // the running controller's manager (its cache)

	extraNS []string
	ids     []keys.Identity
	revoke  bool // --policy-revoke-deletes
	require bool // --require-policy
	ownNS   bool // --allow-controller-namespace
	// wrap, when set, wraps the controller's transport to the API server.
	wrap func(http.RoundTripper) http.RoundTripper
}

func newFixture(t *testing.T, renew time.Duration) *fixture {
	return newFixtureWith(t, renew, nil)
}

// newFixtureWith also creates and watches the extra namespaces, and gives
// the controller the extra identities.
func newFixtureWith(t *testing.T, renew time.Duration, extra []string, ids ...keys.Identity) *fixture {
	t.Helper()
	needsAPIServer(t)
	n := nsCounter.Add(1)
	f := &fixture{t: t, ns: fmt.Sprintf("app-%d", n), ctrlNS: fmt.Sprintf("kseal-%d", n), extraNS: extra, ids: ids}
	for _, ns := range append([]string{f.ns, f.ctrlNS}, extra...) {
		if err := k8s.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	f.start(renew)
	t.Cleanup(f.halt)
	return f
}

func (f *fixture) start(renew time.Duration) {
	f.t.Helper()
	c := rest.CopyConfig(cfg)
	if f.wrap != nil {
		c.Wrap(f.wrap)
	}
	mgr, _, err := controller.NewManager(c, controller.Options{
		Namespace: f.ctrlNS, WatchNamespaces: append([]string{f.ns}, f.extraNS...), RenewPeriod: renew,
		MetricsAddr: "0", ProbeAddr: "0", RecipientsAddr: "0", Concurrency: 4, SkipNameValidation: true,
		ExtraIdentities: func() []keys.Identity {
			return append([]keys.Identity{&awskms.Identity{}, gcpkms.Identity{}}, f.ids...)
		},
		ClusterName:              "test",
		PolicyRevokeDeletes:      f.revoke,
		RequirePolicy:            f.require,
		AllowControllerNamespace: f.ownNS,
		AdoptRecheck:             200 * time.Millisecond,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mgr = mgr
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done = cancel, make(chan error, 1)
	go func() { f.done <- mgr.Start(ctx) }()
}

func (f *fixture) halt() {
	if f.stop != nil {
		f.stop()
		if err := <-f.done; err != nil {
			f.t.Errorf("manager: %v", err)
		}
		f.stop = nil
	}
}

// eventually polls cond until it returns nil or the timeout passes.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	envtestutil.Eventually(t, what, 30*time.Second, 50*time.Millisecond, cond)
}

// modify reads obj afresh (by its namespace and name; whatever else it
// holds is dropped), applies change and updates it, reading again on a
// conflict: the controller writes status and Secrets while a test runs, so
// a read then an update races it ("the object has been modified").
func modify[T client.Object](t *testing.T, obj T, change func(T)) {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		reflect.ValueOf(obj).Elem().SetZero()
		if err := k8s.Get(t.Context(), key, obj); err != nil {
			return err
		}
		change(obj)
		return k8s.Update(t.Context(), obj)
	})
	if err != nil {
		t.Fatalf("update %s: %v", key, err)
	}
}

// recipient waits for the controller to publish its cluster recipient.
func (f *fixture) recipient() string {
	f.t.Helper()
	var r string
	eventually(f.t, "published recipient", func() error {
		var cm corev1.ConfigMap
		if err := k8s.Get(f.t.Context(), client.ObjectKey{Namespace: f.ctrlNS, Name: controller.RecipientsConfigMap}, &cm); err != nil {
			return err
		}
		for _, l := range strings.Split(cm.Data[controller.RecipientsKey], "\n") {
			if strings.HasPrefix(l, "age1") {
				r = l
				return nil
			}
		}
		return fmt.Errorf("no recipient in %q", cm.Data)
	})
	return r
}

// sealedShared seals with scope shared, as kseal does for shared secrets:
// bound to the name, applied in several namespaces.
func sealedShared(t *testing.T, ns, name string, values map[string]string, recipients ...string) *ksealv1.SealedSecret {
	ss := sealedScope(t, crypto.ScopeShared, "placeholder", name, values, "", recipients...)
	ss.Namespace = ns
	return ss
}

// sealedClusterScope seals with scope cluster (bound to nothing).
func sealedClusterScope(t *testing.T, ns, name string, values map[string]string, recipients ...string) *ksealv1.SealedSecret {
	ss := sealedScope(t, crypto.ScopeCluster, "placeholder", name, values, "", recipients...)
	ss.Namespace = ns
	return ss
}

// sealed makes a SealedSecret the way `kseal seal` does: a Secret manifest
// through pkg/manifest and pkg/crypto, then decoded as the API type.
func sealed(t *testing.T, ns, name string, values map[string]string, extra string, recipients ...string) *ksealv1.SealedSecret {
	return sealedScope(t, crypto.ScopeStrict, ns, name, values, extra, recipients...)
}

func sealedScope(t *testing.T, scope crypto.Scope, ns, name string, values map[string]string, extra string, recipients ...string) *ksealv1.SealedSecret {
	t.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n  labels: {app: demo}\n%sstringData:\n", name, ns, extra)
	for k, v := range values {
		fmt.Fprintf(&sb, "  %s: %q\n", k, v)
	}
	strm, err := manifest.Parse([]byte(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	d := strm.Docs[0]
	vals, err := d.Plain()
	if err != nil {
		t.Fatal(err)
	}
	var rs []keys.Recipient
	for _, r := range recipients {
		rc, err := keys.ParseRecipient(r)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, rc)
	}
	s, err := crypto.Seal(t.Context(), rand.Reader, scope, d.Target(), vals, rs)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ToSealedSecret(s); err != nil {
		t.Fatal(err)
	}
	out, err := strm.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var ss ksealv1.SealedSecret
	if err := yaml.UnmarshalStrict(out, &ss); err != nil {
		t.Fatalf("kseal output does not decode as the API type: %v\n%s", err, out)
	}
	return &ss
}

func ready(t *testing.T, ns, name string) *metav1.Condition {
	t.Helper()
	var ss ksealv1.SealedSecret
	if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &ss); err != nil {
		return nil
	}
	c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReady)
	if c != nil && c.ObservedGeneration != ss.Generation {
		return nil
	}
	return c
}

// waitReason waits until the Ready condition has reason.
func waitReason(t *testing.T, ns, name, reason string) *metav1.Condition {
	t.Helper()
	var c *metav1.Condition
	eventually(t, fmt.Sprintf("%s/%s Ready reason %s", ns, name, reason), func() error {
		c = ready(t, ns, name)
		if c == nil || c.Reason != reason {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	return c
}

// waitSecret waits until the Secret holds want.
func waitSecret(t *testing.T, ns, name string, want map[string]string) *corev1.Secret {
	t.Helper()
	var s corev1.Secret
	eventually(t, "Secret "+ns+"/"+name, func() error {
		if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			return err
		}
		if len(s.Data) != len(want) {
			return fmt.Errorf("data has %d keys, want %d", len(s.Data), len(want))
		}
		for k, v := range want {
			if string(s.Data[k]) != v {
				return fmt.Errorf("%s differs", k)
			}
		}
		return nil
	})
	return &s
}

// series returns the series of metric name in the controller's metrics
// registry whose labels include labels.
func series(t *testing.T, name string, labels map[string]string) []*dto.Metric {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.Metric
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			if matches(have, labels) {
				out = append(out, m)
			}
		}
	}
	return out
}

// matches: have holds every label of want with its value.
func matches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// metric returns the value of a counter or gauge, or the sample count of a
// histogram, from the controller's metrics registry; labels select one
// series (all of them must match).
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	for _, m := range series(t, name, labels) {
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// unchangedOver fails the test when any of the probes changes during the
// window: "nothing happened" is a counter that stayed put, polled, not a
// sleep and a timestamp.
func unchangedOver(t *testing.T, window time.Duration, probes map[string]func() float64) {
	t.Helper()
	start := map[string]float64{}
	for k, p := range probes {
		start[k] = p()
	}
	for deadline := time.Now().Add(window); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for k, p := range probes {
			if v := p(); v != start[k] {
				t.Fatalf("%s changed from %v to %v within %v", k, start[k], v, window)
			}
		}
	}
}

// settle waits until probe has not changed for window (at most 30 s), for
// letting earlier work finish before counting what comes next.
func settle(t *testing.T, window time.Duration, what string, probe func() float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	v, since := probe(), time.Now()
	for time.Since(since) < window {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not settle within 30s", what)
		}
		time.Sleep(50 * time.Millisecond)
		if n := probe(); n != v {
			v, since = n, time.Now()
		}
	}
}

// waitEvent waits for an event with reason about the object ns/name (of
// kind) and returns its note.
func waitEvent(t *testing.T, ns, kind, name, reason string) string {
	t.Helper()
	var note string
	eventually(t, fmt.Sprintf("event %s about %s %s/%s", reason, kind, ns, name), func() error {
		var list eventsv1.EventList
		if err := k8s.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == reason {
				note = e.Note
				return nil
			}
		}
		return fmt.Errorf("%d events, none matches", len(list.Items))
	})
	return note
}

// secretUntouched fails unless the Secret ns/name still holds want and no
// SealedSecret owner reference.
func secretUntouched(t *testing.T, ns, name string, want map[string]string) {
	t.Helper()
	var s corev1.Secret
	if err := k8s.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	if len(s.OwnerReferences) > 0 && s.OwnerReferences[0].Kind == "SealedSecret" {
		t.Errorf("Secret %s/%s was adopted: %v", ns, name, s.OwnerReferences)
	}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("Secret %s/%s: %s was overwritten", ns, name, k)
		}
	}
}

package controller_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
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
	gcpKey = "projects/kseal/locations/europe-west1/keyRings/cluster/cryptoKeys/unseal"
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
	if testEnv == nil {
		os.Exit(0)
	}
	var err error
	k8s, err = client.New(cfg, client.Options{Scheme: controller.Scheme()})
	if err != nil {
		panic(err)
	}
	if awsKMS, err = kmstest.NewAWS(awsKey); err != nil {
		panic(err)
	}
	if gcpKMS, err = kmstest.NewGCP(gcpKey); err != nil {
		panic(err)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_KMS": awsKMS.URL, "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		gcpkms.EnvEndpoint: gcpKMS.Addr, gcpkms.EnvInsecure: "true",
	} {
		os.Setenv(k, v)
	}
	code := m.Run()
	_ = testEnv.Stop()
	os.Exit(code)
}

var nsCounter atomic.Int64

// fixture is one test's namespaces and controller.
type fixture struct {
	t      *testing.T
	ns     string // where SealedSecrets live
	ctrlNS string // the controller's namespace
	stop   context.CancelFunc
	done   chan error

	extraNS []string
	ids     []keys.Identity
	revoke  bool // --policy-revoke-deletes
}

func newFixture(t *testing.T, renew time.Duration) *fixture {
	return newFixtureWith(t, renew, nil)
}

// newFixtureWith also creates and watches the extra namespaces, and gives
// the controller the extra identities.
func newFixtureWith(t *testing.T, renew time.Duration, extra []string, ids ...keys.Identity) *fixture {
	t.Helper()
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
	mgr, _, err := controller.NewManager(cfg, controller.Options{
		Namespace: f.ctrlNS, WatchNamespaces: append([]string{f.ns}, f.extraNS...), RenewPeriod: renew,
		MetricsAddr: "0", ProbeAddr: "0", RecipientsAddr: "0", Concurrency: 4, SkipNameValidation: true,
		ExtraIdentities: func() []keys.Identity {
			return append([]keys.Identity{&awskms.Identity{}, gcpkms.Identity{}}, f.ids...)
		},
		ClusterName:         "test",
		PolicyRevokeDeletes: f.revoke,
	})
	if err != nil {
		f.t.Fatal(err)
	}
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

// sealedCluster seals with scope cluster, as kseal does for shared secrets.
func sealedCluster(t *testing.T, name string, values map[string]string, recipients ...string) *ksealv1.SealedSecret {
	return sealedScope(t, crypto.ScopeCluster, "placeholder", name, values, "", recipients...)
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

package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
)

// writeLog records, for one controller, every request that writes or reads
// a named object in the given namespaces: "POST secrets/db" (the name of a
// create taken from its body), "PUT secrets/db", "PATCH
// sealedsecrets/db/status", "GET configmaps/kseal-recipients". Lists and
// watches are not recorded.
type writeLog struct {
	ns []string
	mu sync.Mutex
	r  []string
}

func (l *writeLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		for i := 0; i+2 < len(parts); i++ {
			if parts[i] != "namespaces" || !slices.Contains(l.ns, parts[i+1]) {
				continue
			}
			rest := strings.Join(parts[i+2:], "/")
			if req.Method == http.MethodPost && req.Body != nil {
				b, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(b))
				var o metav1.PartialObjectMetadata
				_ = json.Unmarshal(b, &o)
				rest += "/" + o.Name
			}
			if req.Method != http.MethodGet || len(parts) > i+3 {
				l.mu.Lock()
				l.r = append(l.r, req.Method+" "+rest)
				l.mu.Unlock()
			}
			break
		}
		return rt.RoundTrip(req)
	})
}

// take returns the requests recorded since the last take.
func (l *writeLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.r
	l.r = nil
	return out
}

// shard is one controller of TestShards.
type shard struct {
	name, selector string
	log            *writeLog
	mgr            ctrl.Manager
	stop           context.CancelFunc
	done           chan error
}

// TestShards runs two shards and a default controller, as Flux shards its
// controllers: --watch-label-selector 'sharding.fluxcd.io/key in (shardN)'
// and '!sharding.fluxcd.io/key'. Each elects its own leader (three Leases),
// unseals exactly its own SealedSecrets, and never writes a Secret or a
// status of another shard's — not even when that Secret is edited or
// deleted, which every shard sees. One process only maintains the cluster
// keys (the keys Lease): exactly one key is generated and one shard
// publishes it. An object moved to another shard (its label changed) is
// that shard's from then on, and repaired by it alone.
func TestShards(t *testing.T) {
	needsAPIServer(t)
	ctx := t.Context()
	n := nsCounter.Add(1)
	ns, ctrlNS := fmt.Sprintf("app-%d", n), fmt.Sprintf("kseal-%d", n)
	for _, name := range []string{ns, ctrlNS} {
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	shards := []*shard{
		{name: "shard1", selector: "sharding.fluxcd.io/key in (shard1)"},
		{name: "shard2", selector: "sharding.fluxcd.io/key in (shard2)"},
		{name: "default", selector: "!sharding.fluxcd.io/key"},
	}
	for _, s := range shards {
		s.log = &writeLog{ns: []string{ns, ctrlNS}}
		c := rest.CopyConfig(cfg)
		c.Wrap(s.log.wrap)
		// JSON bodies: writeLog reads the name of a create from them.
		c.ContentType, c.AcceptContentTypes = "application/json", "application/json"
		mgr, _, err := controller.NewManager(c, controller.Options{
			Namespace: ctrlNS, WatchNamespaces: []string{ns}, WatchLabelSelector: s.selector, RenewPeriod: time.Hour,
			MetricsAddr: "0", ProbeAddr: "0", RecipientsAddr: "0", Concurrency: 4, SkipNameValidation: true,
			LeaderElect: true, LeaderElectionID: "kseal-controller.kseal.dev",
			LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		s.mgr = mgr
		var sctx context.Context
		sctx, s.stop = context.WithCancel(context.Background())
		s.done = make(chan error, 1)
		go func() { s.done <- mgr.Start(sctx) }()
	}
	t.Cleanup(func() {
		for _, s := range shards {
			s.stop()
			if err := <-s.done; err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
		}
	})
	f := &fixture{t: t, ns: ns, ctrlNS: ctrlNS}
	rcp := f.recipient()
	want := map[string]string{"k": "v"}

	// Three objects per shard; the default one carries no shard label.
	owner := map[string]*shard{}
	for _, s := range shards {
		for i := range 3 {
			name := fmt.Sprintf("%s-%d", s.name, i)
			ss := sealed(t, ns, name, want, "", rcp)
			if s.name != "default" {
				ss.Labels = map[string]string{"sharding.fluxcd.io/key": s.name}
			}
			if err := k8s.Create(ctx, ss); err != nil {
				t.Fatal(err)
			}
			owner[name] = s
		}
	}
	for name := range owner {
		waitReason(t, ns, name, ksealv1.ReasonUnsealed)
		waitSecret(t, ns, name, want)
	}

	var leases coordinationv1.LeaseList
	if err := k8s.List(ctx, &leases, client.InNamespace(ctrlNS)); err != nil {
		t.Fatal(err)
	}
	holders := map[string]string{}
	for _, l := range leases.Items {
		if l.Spec.HolderIdentity != nil {
			holders[l.Name] = *l.Spec.HolderIdentity
		}
	}
	if len(holders) != 4 || holders["kseal-controller-keys.kseal.dev"] == "" {
		t.Errorf("Leases held %v: want one per shard and the keys Lease", holders)
	}
	var keySecrets corev1.SecretList
	if err := k8s.List(ctx, &keySecrets, client.InNamespace(ctrlNS), client.MatchingLabels{controller.LabelManaged: controller.ManagedClusterKey}); err != nil {
		t.Fatal(err)
	}
	if len(keySecrets.Items) != 1 {
		t.Errorf("%d cluster keys, want 1: only the keys Lease's holder generates", len(keySecrets.Items))
	}

	// checkWrites: every shard wrote only what it owns; publishing the
	// recipients (the keyring's maintenance) is one shard's.
	checkWrites := func(t *testing.T, what string) {
		t.Helper()
		publishers := 0
		for _, s := range shards {
			published := false
			for _, r := range s.log.take() {
				method, path, _ := strings.Cut(r, " ")
				parts := strings.Split(path, "/")
				switch {
				case parts[0] == "configmaps" && len(parts) > 1 && parts[1] == controller.RecipientsConfigMap:
					published = true
				case parts[0] == "secrets" && len(parts) > 1 && strings.HasPrefix(parts[1], "kseal-key-"):
				case parts[0] == "secrets" || parts[0] == "sealedsecrets":
					if len(parts) < 2 || owner[parts[1]] != s {
						t.Errorf("%s: %s sent %s %s, which is not its own", what, s.name, method, path)
					}
				}
			}
			if published {
				publishers++
			}
		}
		if publishers > 1 {
			t.Errorf("%s: %d shards maintained the cluster keys, want one", what, publishers)
		}
	}
	checkWrites(t, "first unseal")

	t.Run("an edit or a deletion is repaired by the owning shard alone", func(t *testing.T) {
		modify(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shard1-0"}}, func(s *corev1.Secret) { s.Data["k"] = []byte("edited") })
		if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shard2-0"}}); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-0"}}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"shard1-0", "shard2-0", "default-0"} {
			waitSecret(t, ns, name, want)
		}
		checkWrites(t, "repair")
	})

	t.Run("an object moved to another shard is that shard's", func(t *testing.T) {
		modify(t, &ksealv1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shard1-1"}}, func(ss *ksealv1.SealedSecret) {
			ss.Labels["sharding.fluxcd.io/key"] = "shard2"
		})
		owner["shard1-1"] = shards[1]
		// Before editing its Secret: shard1 must have let go of it and
		// shard2 taken it, or either could rightly act on the edit.
		eventually(t, "shard2 alone to hold the moved object", func() error {
			key := client.ObjectKey{Namespace: ns, Name: "shard1-1"}
			if err := shards[1].mgr.GetCache().Get(ctx, key, &ksealv1.SealedSecret{}); err != nil {
				return fmt.Errorf("shard2: %w", err)
			}
			if err := shards[0].mgr.GetCache().Get(ctx, key, &ksealv1.SealedSecret{}); err == nil {
				return fmt.Errorf("shard1 still holds it")
			}
			return nil
		})
		modify(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shard1-1"}}, func(s *corev1.Secret) { s.Data["k"] = []byte("edited") })
		waitSecret(t, ns, "shard1-1", want)
		checkWrites(t, "move")
	})
}

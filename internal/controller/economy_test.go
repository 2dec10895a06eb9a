package controller_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// requestLog counts the controller's requests to the API server by verb and
// resource ("POST secrets", "PATCH sealedsecrets/status") within one
// namespace, and records how it lists and watches Secrets.
type requestLog struct {
	ns string
	mu sync.Mutex
	n  map[string]int
	// secretAccept holds the URL and Accept header of every watch of
	// Secrets (the cache's; the keyring's live list of its key Secrets is
	// no watch).
	secretAccept []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		// .../namespaces/NS/RESOURCE[/NAME[/SUBRESOURCE]]
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		for i := 0; i+2 < len(parts); i++ {
			if parts[i] != "namespaces" {
				continue
			}
			resource, verb := parts[i+2], req.Method
			if len(parts) > i+4 {
				resource += "/" + parts[i+4]
			}
			if verb == http.MethodGet && len(parts) == i+3 {
				verb = "LIST"
				if req.URL.Query().Get("watch") == "true" {
					verb = "WATCH"
				}
			}
			l.mu.Lock()
			if parts[i+1] == l.ns {
				l.n[verb+" "+resource]++
			}
			if resource == "secrets" && verb == "WATCH" {
				l.secretAccept = append(l.secretAccept, req.URL.String()+" Accept: "+req.Header.Get("Accept"))
			}
			l.mu.Unlock()
			break
		}
		return rt.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (l *requestLog) take() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.n
	l.n = map[string]int{}
	return out
}

func (l *requestLog) total() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := 0
	for _, v := range l.n {
		t += v
	}
	return float64(t)
}

// TestUnsealWriteEconomy pins what an unseal costs the API server: one
// Secret create and one status patch, no event, no read of the Secret, no
// second reconcile writing the status again; a restart reads nothing,
// decrypts nothing and writes nothing (each Secret records the spec it was
// written for, and its managed fields that nobody changed it since); an
// edit by hand costs one read and one update.
// The controller lists and watches Secrets as metadata only, so their data
// is never in its memory.
func TestUnsealWriteEconomy(t *testing.T) {
	const n = 20
	log := &requestLog{n: map[string]int{}}
	f := newFixtureWithWrap(t, log)
	rcp := f.recipient()
	ctx := t.Context()
	want := map[string]string{"user": "admin", "password": "hunter2"}
	reconciles := func() float64 {
		return metricSum(t, "controller_runtime_reconcile_total", map[string]string{"controller": "sealedsecret"})
	}
	r0 := reconciles()
	for i := range n {
		if err := k8s.Create(ctx, sealed(t, f.ns, fmt.Sprintf("db-%d", i), want, "", rcp)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		waitReason(t, f.ns, fmt.Sprintf("db-%d", i), ksealv1.ReasonUnsealed)
	}
	settle(t, time.Second, "requests", log.total)
	got := log.take()
	expect(t, "first unseal", got, map[string]int{"POST secrets": n, "PATCH sealedsecrets/status": n})
	if d := reconciles() - r0; d != n {
		t.Errorf("%v reconciles for %d new SealedSecrets, want one each: the controller's own writes must not bring them back", d, n)
	}

	log.mu.Lock()
	accept := append([]string(nil), log.secretAccept...)
	log.mu.Unlock()
	if len(accept) == 0 {
		t.Fatal("no watch of Secrets seen")
	}
	for _, a := range accept {
		if !strings.Contains(a, "as=PartialObjectMetadata") {
			t.Errorf("the controller watches Secrets in full (%s): their data would sit in its cache", a)
		}
	}

	// A settled object is cached without its ciphertext (stripSealedSecret):
	// decrypting it again reads it once.
	t.Run("an edit by hand costs two reads and one update", func(t *testing.T) {
		var cur corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "db-0"}, &cur); err != nil {
			t.Fatal(err)
		}
		cur.Data["password"] = []byte("tampered")
		if err := k8s.Update(ctx, &cur); err != nil {
			t.Fatal(err)
		}
		waitSecret(t, f.ns, "db-0", want)
		settle(t, time.Second, "requests", log.total)
		expect(t, "repair", log.take(), map[string]int{"GET secrets": 1, "GET sealedsecrets": 1, "PUT secrets": 1, "POST events": 1})
	})
	t.Run("a restart reads nothing, unwraps nothing and writes nothing", func(t *testing.T) {
		f.halt()
		r1 := reconciles()
		unwraps := unwrapAttempts(t)
		f.start(time.Hour)
		eventually(t, "every object reconciled by the new process", func() error {
			if d := reconciles() - r1; d < n {
				return fmt.Errorf("%v reconciles", d)
			}
			return nil
		})
		settle(t, time.Second, "requests", log.total)
		expect(t, "restart", log.take(), map[string]int{})
		if d := unwrapAttempts(t) - unwraps; d != 0 {
			t.Errorf("a restart unwrapped %v data keys, want none: every Secret was already right", d)
		}
	})
}

// unwrapAttempts counts the data key unwraps that reached an identity (a
// KMS call for a KMS key).
func unwrapAttempts(t *testing.T) float64 {
	return metricSum(t, "kseal_unwrap_attempts_total", nil)
}

// newFixtureWithWrap is newFixture with the controller's requests in f.ns
// counted by log.
func newFixtureWithWrap(t *testing.T, log *requestLog) *fixture {
	t.Helper()
	n := nsCounter.Add(1)
	f := &fixture{t: t, ns: fmt.Sprintf("app-%d", n), ctrlNS: fmt.Sprintf("kseal-%d", n), wrap: log.wrap}
	log.ns = f.ns
	for _, ns := range []string{f.ns, f.ctrlNS} {
		if err := k8s.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	f.start(time.Hour)
	t.Cleanup(f.halt)
	return f
}

func expect(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	for k, v := range got {
		if strings.HasPrefix(k, "LIST ") || strings.HasPrefix(k, "WATCH ") {
			continue // the informers filling the cache
		}
		if want[k] != v {
			t.Errorf("%s: %d x %s, want %d (all requests: %v)", what, v, k, want[k], got)
		}
	}
	for k, v := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: 0 x %s, want %d (all requests: %v)", what, k, v, got)
		}
	}
}

// metricSum sums every series of a counter whose labels include labels.
func metricSum(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	sum := 0.0
	for _, m := range series(t, name, labels) {
		sum += m.GetCounter().GetValue()
	}
	return sum
}

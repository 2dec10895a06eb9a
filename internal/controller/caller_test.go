package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

func init() {
	keys.Register(keys.Provider{Name: "keystest", ServiceSettings: func(map[string]string) error { return nil }})
}

// callerRecorder is an identity that notes on whose behalf it unwraps.
type callerRecorder struct {
	keys.Identity
	mu  sync.Mutex
	got []keys.Caller
}

func (c *callerRecorder) Unwrap(ctx context.Context, s *keys.Stanza, b keys.Binding) ([]byte, error) {
	if caller, ok := keys.CallerFrom(ctx); ok {
		c.mu.Lock()
		c.got = append(c.got, caller)
		c.mu.Unlock()
	}
	return c.Identity.Unwrap(ctx, s, b)
}

// Under a policy, a provider's Unwrap learns the service the object is
// granted to (its namespace, ServiceAccounts and settings for providers),
// which is what a per-service login at a key service needs.
func TestUnwrapKnowsTheService(t *testing.T) {
	needsAPIServer(t)
	key, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	rec := &callerRecorder{Identity: key}
	ns := fmt.Sprintf("caller-%d", nsCounter.Add(1))
	p := &policyFixture{fixture: newFixtureWith(t, time.Hour, []string{ns}, rec)}
	p.setPolicyText(t, fmt.Sprintf(`apiVersion: kseal.dev/v1alpha1
kind: Policy
clusters:
  test: {recipientsFile: test.pub}
keys:
  k: {recipient: %s}
services:
  orders:
    namespaces: [%s]
    serviceAccounts: [orders-api]
    keys: [k]
    providers: {keystest: {role: orders-role}}
`, key.Recipient(), ns))
	ss := sealed(t, ns, "db", map[string]string{"password": "pw"}, "", key.Recipient())
	if err := k8s.Create(t.Context(), ss); err != nil {
		t.Fatal(err)
	}
	waitSecret(t, ns, "db", map[string]string{"password": "pw"})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := keys.Caller{Service: "orders", Namespace: ns, ServiceAccounts: []string{"orders-api"}, Settings: map[string]map[string]string{"keystest": {"role": "orders-role"}}}
	if len(rec.got) == 0 || !reflect.DeepEqual(rec.got[len(rec.got)-1], want) {
		t.Errorf("callers %+v, want %+v", rec.got, want)
	}
}

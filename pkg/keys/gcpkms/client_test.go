package gcpkms

import (
	"context"
	"errors"
	"testing"

	kms "cloud.google.com/go/kms/apiv1"
	"google.golang.org/api/option"
)

// A failure to create the client is not cached: the next call retries.
func TestClientErrorIsNotCached(t *testing.T) {
	shared.Lock()
	saved := shared.c
	shared.c = nil
	shared.Unlock()
	defer func() {
		shared.Lock()
		shared.c = saved
		shared.Unlock()
		newClient = kms.NewKeyManagementClient
	}()
	t.Setenv(EnvEndpoint, "127.0.0.1:1")
	t.Setenv(EnvInsecure, "true")
	fail := errors.New("no credentials yet")
	calls := 0
	newClient = func(ctx context.Context, opts ...option.ClientOption) (*kms.KeyManagementClient, error) {
		calls++
		if calls == 1 {
			return nil, fail
		}
		return kms.NewKeyManagementClient(ctx, opts...)
	}
	if _, err := client(t.Context()); !errors.Is(err, fail) {
		t.Fatalf("first call: got %v, want the construction error", err)
	}
	c, err := client(t.Context())
	if err != nil || c == nil {
		t.Fatalf("second call: got %v; the first failure was cached", err)
	}
	if again, _ := client(t.Context()); again != c || calls != 2 {
		t.Fatalf("a working client is not shared (%d constructions)", calls)
	}
}

package keys

import (
	"context"
	"maps"
	"slices"
)

// A Caller is on whose behalf the controller unwraps: the service that the
// policy grants the object to, with its namespace, ServiceAccounts and its
// per-provider settings (services.NAME.providers in kseal.yaml). A provider
// whose key service knows per-service identities (Vault's Kubernetes auth,
// for one) reads it in Unwrap with CallerFrom and authenticates as that
// service, so that the key service's own policy decides too. Without a
// policy, or in the CLI, there is no Caller.
type Caller struct {
	Service         string
	Namespace       string // the object's namespace
	ServiceAccounts []string
	Settings        map[string]map[string]string
}

type callerKey struct{}

// WithCaller returns ctx carrying c (copied, so that no provider can
// change what the next one sees).
func WithCaller(ctx context.Context, c Caller) context.Context {
	c.ServiceAccounts = slices.Clone(c.ServiceAccounts)
	if c.Settings != nil {
		s := make(map[string]map[string]string, len(c.Settings))
		for k, v := range c.Settings {
			s[k] = maps.Clone(v)
		}
		c.Settings = s
	}
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller that ctx carries, if any. Its Settings map
// is the context's own: read it, do not change it.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

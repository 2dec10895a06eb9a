package keys

import (
	"context"
	"flag"
	"sync"
)

// A Service is who an unwrap is done for: the policy service that owns the
// object being opened, as the controller resolved it. Providers that can
// act as the service's own identity (Vault's Kubernetes auth as the
// service's ServiceAccount) read it with ServiceFrom.
type Service struct {
	Name            string
	Namespace       string            // the object's namespace, one of the service's
	ServiceAccounts []string          // the service's ServiceAccounts, from the policy
	Roles           map[string]string // provider → role (kseal.yaml services.NAME.roles)
}

type serviceKey struct{}

// WithService returns ctx carrying s.
func WithService(ctx context.Context, s *Service) context.Context {
	return context.WithValue(ctx, serviceKey{}, s)
}

// ServiceFrom returns the Service ctx carries, or nil.
func ServiceFrom(ctx context.Context) *Service {
	s, _ := ctx.Value(serviceKey{}).(*Service)
	return s
}

var flagBinders struct {
	sync.Mutex
	m map[string]func(*flag.FlagSet)
}

// RegisterControllerFlags lets a provider add its kseal-controller flags
// (how it authenticates in the cluster) under name.
func RegisterControllerFlags(name string, bind func(*flag.FlagSet)) {
	flagBinders.Lock()
	defer flagBinders.Unlock()
	if flagBinders.m == nil {
		flagBinders.m = map[string]func(*flag.FlagSet){}
	}
	flagBinders.m[name] = bind
}

// BindControllerFlags adds every provider's controller flags to fs. Their
// values are read by the providers' identity sources (DefaultIdentities).
func BindControllerFlags(fs *flag.FlagSet) {
	flagBinders.Lock()
	defer flagBinders.Unlock()
	for _, bind := range flagBinders.m {
		bind(fs)
	}
}

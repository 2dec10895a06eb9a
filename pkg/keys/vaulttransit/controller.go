package vaulttransit

import (
	"flag"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"kseal.dev/kseal/pkg/keys"
)

// Controller configures kseal-controller's Vault identity.
type Controller struct {
	Vault Config
	// AuthMount is the Kubernetes auth method's mount ("kubernetes").
	AuthMount string
	// Role is the controller's own Kubernetes auth role.
	Role string
	// TokenFile is the controller's ServiceAccount token, read on each login.
	TokenFile string
	// Audience is asked for in the TokenRequest of a service's
	// ServiceAccount; the rendered Vault roles require it.
	Audience string
	// Kube reaches the API server for TokenRequests (nil: in-cluster or
	// KUBECONFIG).
	Kube *rest.Config
	now  func() time.Time
}

// DefaultAudience is the audience of service tokens and rendered roles.
const DefaultAudience = "vault"

type flagValues struct {
	addr, mount, role, tokenFile, audience, caCert string
}

var flags flagValues

// bindFlags adds the controller's Vault flags (Provider.ControllerFlags).
func bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&flags.addr, "vault-addr", "", "Vault server for vault: keys (default $VAULT_ADDR); VAULT_NAMESPACE, VAULT_CACERT, VAULT_CAPATH apply")
	fs.StringVar(&flags.caCert, "vault-ca-cert", "", "PEM file of the CA that signed the Vault server's certificate (default $VAULT_CACERT)")
	fs.StringVar(&flags.role, "vault-auth-role", "", "log in to Vault with its Kubernetes auth method as this role (default: use VAULT_TOKEN)")
	fs.StringVar(&flags.mount, "vault-auth-mount", "kubernetes", "the Vault Kubernetes auth method's mount")
	fs.StringVar(&flags.tokenFile, "vault-token-file", "/var/run/secrets/kubernetes.io/serviceaccount/token", "the controller's ServiceAccount token for the Vault login")
	fs.StringVar(&flags.audience, "vault-token-audience", DefaultAudience, "audience of the tokens requested for a service's ServiceAccount when the policy gives it a Vault role")
}

// config is the environment's Config with the controller's flags, if set,
// taking precedence (the CLI registers no flags: they stay empty).
func (f *flagValues) config() (Config, error) {
	cfg, err := ConfigFromEnv()
	if f.addr != "" {
		cfg.Addr = f.addr
	}
	if f.caCert != "" {
		cfg.CACert = f.caCert
	}
	return cfg, err
}

func (f *flagValues) controller() (Controller, error) {
	cfg, err := f.config()
	if err != nil {
		return Controller{}, err
	}
	return Controller{Vault: cfg, AuthMount: f.mount, Role: f.role, TokenFile: f.tokenFile, Audience: f.audience}, nil
}

// NewControllerIdentity returns the controller's identity: it logs in with
// the Kubernetes auth method as Role with the token in TokenFile, and for an
// object whose service the policy gives a Vault role, as that service's
// own ServiceAccount (a TokenRequest) with that role.
func NewControllerIdentity(o Controller) (*Identity, error) {
	if o.Role == "" {
		return nil, fmt.Errorf("vault: no Kubernetes auth role (--vault-auth-role)")
	}
	if o.AuthMount == "" {
		o.AuthMount = "kubernetes"
	}
	if o.now == nil {
		o.now = time.Now
	}
	c, err := newClient(o.Vault)
	if err != nil {
		return nil, err
	}
	id := &Identity{c: c, ts: &kubeLogin{c: c, mount: o.AuthMount, role: o.Role, jwt: fileJWT(o.TokenFile), now: o.now}}
	id.services = &serviceLogins{o: o, c: c, m: map[string]*kubeLogin{}}
	return id, nil
}

// serviceLogins caches one login per service identity (role, namespace,
// ServiceAccount).
type serviceLogins struct {
	o  Controller
	c  *client
	mu sync.Mutex
	cs *tokenRequests
	m  map[string]*kubeLogin
}

// source returns the token source of svc's identity. The ServiceAccount is
// the first the policy lists for the service: kseal never asks for a token
// of an account the policy does not name.
func (s *serviceLogins) source(c keys.Caller) (tokenSource, error) {
	set := c.Settings[Type]
	role := set["role"]
	sa := serviceAccountFor(loginAccounts(c.ServiceAccounts, set), c.Namespace)
	if sa == "" || strings.ContainsAny(sa, "/ ") {
		return nil, loginError(fmt.Sprintf("role %q for service %q", role, c.Service), keys.KindAccessDenied,
			fmt.Errorf("the policy names no ServiceAccount of the service in namespace %q to log in as", c.Namespace))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := role + "\x00" + c.Namespace + "\x00" + sa
	if l, ok := s.m[key]; ok {
		return l, nil
	}
	if s.cs == nil {
		cfg := s.o.Kube
		if cfg == nil {
			var err error
			if cfg, err = kubeConfig(); err != nil {
				return nil, fmt.Errorf("vault per-service login: %w", err)
			}
		}
		// The core/v1 REST client alone (tokenRequests): the typed
		// clients would register every API group at start-up.
		cs, err := newTokenRequests(cfg)
		if err != nil {
			return nil, err
		}
		s.cs = cs
	}
	l := &kubeLogin{c: s.c, mount: s.o.AuthMount, role: role, jwt: tokenRequestJWT(s.cs, c.Namespace, sa, s.o.Audience), now: s.o.now}
	s.m[key] = l
	return l, nil
}

// logins reports how many Vault logins each cached identity made; tests
// read it.
func (s *serviceLogins) logins() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, l := range s.m {
		l.mu.Lock()
		out[strings.ReplaceAll(k, "\x00", "/")] = l.logins
		l.mu.Unlock()
	}
	return out
}

func kubeConfig() (*rest.Config, error) {
	if c, err := rest.InClusterConfig(); err == nil {
		return c, nil
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
}

package vaulttransit

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"

	"kseal.dev/kseal/pkg/keys"
)

// kubeLogin logs in with Vault's Kubernetes auth method and keeps the token
// until 80% of its lease has passed, or until a 403 invalidates it.
type kubeLogin struct {
	c     *client
	mount string
	role  string
	jwt   func(ctx context.Context) (string, error) // a ServiceAccount token
	now   func() time.Time

	mu      sync.Mutex
	tok     string
	renewAt time.Time
	logins  int // for tests: how many logins were made
}

func (k *kubeLogin) Token(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tok != "" && k.now().Before(k.renewAt) {
		return k.tok, nil
	}
	jwt, err := k.jwt(ctx)
	if err != nil {
		return "", err
	}
	var resp struct {
		Auth struct {
			ClientToken   string `json:"client_token"`
			LeaseDuration int    `json:"lease_duration"`
		} `json:"auth"`
	}
	what := fmt.Sprintf("auth/%s as role %q", k.mount, k.role)
	if err := k.c.call(ctx, what, "login", http.MethodPost, "/v1/auth/"+k.mount+"/login", "", map[string]string{"role": k.role, "jwt": jwt}, &resp); err != nil {
		return "", err
	}
	if resp.Auth.ClientToken == "" {
		return "", loginError(what, keys.KindFailed, fmt.Errorf("vault returned no token"))
	}
	lease := time.Duration(resp.Auth.LeaseDuration) * time.Second
	k.tok, k.renewAt, k.logins = resp.Auth.ClientToken, k.now().Add(lease*4/5), k.logins+1
	return k.tok, nil
}

func (k *kubeLogin) Invalidate(tok string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tok == tok {
		k.tok = ""
	}
	return true
}

// fileJWT reads the controller's projected ServiceAccount token on every
// login (the kubelet rotates it).
func fileJWT(path string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("reading the ServiceAccount token for Vault login: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
}

// tokenRequests asks the API server for ServiceAccount tokens through a
// REST client for the core group's v1, which is all it needs. client-go's
// typed core/v1 client would do the same, but importing it registers every
// API group of Kubernetes at start-up in every binary that links this
// provider (kseal decrypt paid about 14 ms of package initialization).
type tokenRequests struct {
	rest   rest.Interface
	params runtime.ParameterCodec
}

func newTokenRequests(cfg *rest.Config) (*tokenRequests, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := authv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c := rest.CopyConfig(cfg)
	c.APIPath = "/api"
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, err
	}
	return &tokenRequests{rest: rc, params: runtime.NewParameterCodec(scheme)}, nil
}

// create posts tr to ServiceAccount namespace/name's token subresource.
func (t *tokenRequests) create(ctx context.Context, namespace, name string, tr *authv1.TokenRequest) (*authv1.TokenRequest, error) {
	out := &authv1.TokenRequest{}
	err := t.rest.Post().Namespace(namespace).Resource("serviceaccounts").Name(name).SubResource("token").
		VersionedParams(&metav1.CreateOptions{}, t.params).Body(tr).Do(ctx).Into(out)
	return out, err
}

// tokenRequestJWT asks the API server (TokenRequest) for a short-lived token
// of ServiceAccount namespace/name with the given audience.
func tokenRequestJWT(t *tokenRequests, namespace, name, audience string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		exp := int64(600) // the shortest the API server issues
		tr := &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}
		if audience != "" {
			tr.Spec.Audiences = []string{audience}
		}
		out, err := t.create(ctx, namespace, name, tr)
		if err != nil {
			// The API error names the account and the verb, never a token.
			return "", &keys.Error{Provider: fmt.Sprintf("Kubernetes ServiceAccount %s/%s", namespace, name), Op: "TokenRequest", Kind: tokenRequestKind(err), Err: err}
		}
		return out.Status.Token, nil
	}
}

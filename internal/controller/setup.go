package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/keys"
)

// Options configure kseal-controller.
type Options struct {
	Namespace       string   // the controller's own namespace: keys, recipients, lease
	WatchNamespaces []string // empty: all
	// WatchLabelSelector, when set, restricts the controller to the
	// SealedSecrets whose labels match it (a shard, Flux's way).
	WatchLabelSelector string
	RenewPeriod        time.Duration
	X25519             bool
	MetricsAddr        string
	PprofAddr          string
	ProbeAddr          string
	RecipientsAddr     string
	LeaderElect        bool
	Concurrency        int
	ExtraIdentities    func() []keys.Identity
	LeaderElectionID   string
	// LeaseDuration, RenewDeadline and RetryPeriod time leader election
	// (zero: controller-runtime's 15 s, 10 s and 2 s); Validate checks them.
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// ClusterName is this cluster's name in kseal.yaml (its cluster keys).
	ClusterName string
	// PolicyRevokeDeletes deletes the Secret of a SealedSecret the policy
	// no longer allows.
	PolicyRevokeDeletes bool
	// RequirePolicy denies every unseal while no policy is configured (no
	// policy ConfigMap and no kept copy of a valid one).
	RequirePolicy bool
	// AllowControllerNamespace lets SealedSecrets in Namespace be unsealed.
	AllowControllerNamespace bool
	// AdoptRecheck is how often a SealedSecret waiting for an existing
	// Secret's consent to adoption looks again (default one minute).
	AdoptRecheck time.Duration
	// SkipNameValidation allows several managers in one process (tests).
	SkipNameValidation bool
}

// Scheme returns the scheme with core types and SealedSecret.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = ksealv1.AddToScheme(s)
	return s
}

// NewManager builds the manager with the reconciler, the keyring and the
// recipients server. Only Secrets labelled kseal.dev/managed are cached.
func NewManager(cfg *rest.Config, o Options) (ctrl.Manager, *Keyring, error) {
	shard, err := o.watchSelector()
	if err != nil {
		return nil, nil, err
	}
	managed, err := labels.NewRequirement(LabelManaged, selection.Exists, nil)
	if err != nil {
		return nil, nil, err
	}
	sel := labels.NewSelector().Add(*managed)
	// Unsealed Secrets are watched as metadata only (see
	// Reconciler.SetupWithManager), and of those the cache keeps only
	// kseal's label, the controller reference and a digest of the rest
	// (stripSecret): a tenant's labelled Secrets cost it a few hundred
	// bytes each, whatever they hold. Nothing cached keeps its managed fields,
	// and SealedSecrets drop kubectl's last-applied copy of themselves and,
	// once settled, their ciphertext (see stripSealedSecret).
	copts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			// A shard sees only its SealedSecrets: a reconcile of any other
			// (a Secret event maps to its owner) finds nothing and does
			// nothing. Secrets carry no shard label; every shard caches the
			// stripped metadata of all managed ones.
			&ksealv1.SealedSecret{}: {Label: shard, Transform: stripSealedSecret},
			&corev1.Secret{}:        {Label: sel, Transform: stripSecret},
			&rbacv1.Role{}:          {Label: sel, Transform: cache.TransformStripManagedFields()},
			&rbacv1.RoleBinding{}:   {Label: sel, Transform: cache.TransformStripManagedFields()},
			&corev1.ConfigMap{}:     {Namespaces: map[string]cache.Config{o.Namespace: {}}, Transform: cache.TransformStripManagedFields()},
		},
	}
	if len(o.WatchNamespaces) > 0 {
		copts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range append(o.WatchNamespaces, o.Namespace) {
			copts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	scheme := Scheme()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         copts,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.ProbeAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              o.leaseName(shard),
		LeaderElectionNamespace:       o.Namespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 setDuration(o.LeaseDuration),
		RenewDeadline:                 setDuration(o.RenewDeadline),
		RetryPeriod:                   setDuration(o.RetryPeriod),
		Controller:                    config.Controller{SkipNameValidation: &o.SkipNameValidation},
	})
	if err != nil {
		return nil, nil, err
	}
	kr := NewKeyring(mgr.GetClient(), mgr.GetAPIReader(), ctrl.Log.WithName("keyring"), KeyringOptions{Namespace: o.Namespace, RenewPeriod: o.RenewPeriod, X25519: o.X25519})
	var maintain manager.Runnable = kr // under the manager's Lease
	if shard != nil {
		// Shards share the cluster keys, and each has its own leader: the
		// keys are generated and rotated by whichever process holds one
		// more Lease, common to all shards.
		if maintain, err = newKeyLeader(cfg, kr, o); err != nil {
			return nil, nil, err
		}
	}
	if err := mgr.Add(maintain); err != nil {
		return nil, nil, err
	}
	r := &Reconciler{
		// Every write names the controller's field manager: contentOurs
		// reads it back from a Secret's managed fields.
		Client: client.WithFieldOwner(mgr.GetClient(), FieldManager), APIReader: mgr.GetAPIReader(), Scheme: scheme,
		Recorder: mgr.GetEventRecorder("kseal-controller"), Keyring: kr, ExtraIdentities: o.ExtraIdentities,
		ClusterName: o.ClusterName, RevokeDeletes: o.PolicyRevokeDeletes,
		AllowControllerNamespace: o.AllowControllerNamespace, AdoptRecheck: o.AdoptRecheck,
	}
	if r.AdoptRecheck <= 0 {
		r.AdoptRecheck = time.Minute
	}
	if r.statusREST, err = apiutil.RESTClientForGVK(ksealv1.GroupVersion.WithKind("SealedSecret"), true, false, cfg, serializer.NewCodecFactory(scheme), mgr.GetHTTPClient()); err != nil {
		return nil, nil, err
	}
	r.policy = &policyStore{client: mgr.GetClient(), namespace: o.Namespace, cluster: o.ClusterName, require: o.RequirePolicy, recorder: r.Recorder}
	if err := r.SetupWithManager(mgr, max(o.Concurrency, 1)); err != nil {
		return nil, nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, nil, err
	}
	if err := mgr.AddReadyzCheck("keys", func(req *http.Request) error {
		if !kr.Ready() {
			if err := kr.Load(req.Context()); err != nil || !kr.Ready() {
				return errors.New("no cluster key loaded yet")
			}
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	if o.RecipientsAddr != "" && o.RecipientsAddr != "0" {
		if err := mgr.Add(&recipientsServer{addr: o.RecipientsAddr, kr: kr}); err != nil {
			return nil, nil, err
		}
	}
	return mgr, kr, nil
}

// recipientsServer serves the cluster recipients over HTTP so that anyone
// who can reach the controller (directly or through the API server's
// service proxy) can seal offline.
type recipientsServer struct {
	addr string
	kr   *Keyring
}

func (s *recipientsServer) NeedLeaderElection() bool { return false }

func (s *recipientsServer) Start(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/recipients", func(w http.ResponseWriter, r *http.Request) {
		if !s.kr.Ready() {
			_ = s.kr.Load(r.Context())
		}
		cur, all := s.kr.Recipients()
		if cur == "" {
			http.Error(w, "no cluster key yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.URL.Query().Get("all") != "" {
			fmt.Fprintln(w, strings.Join(all, "\n"))
			return
		}
		fmt.Fprintln(w, cur)
	})
	srv := &http.Server{Addr: s.addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

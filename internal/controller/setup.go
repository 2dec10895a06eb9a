package controller

import (
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

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
	copts, err := cacheOptions(o, shard)
	if err != nil {
		return nil, nil, err
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
	kr, err := addKeyring(mgr, cfg, o, shard)
	if err != nil {
		return nil, nil, err
	}
	r, err := newReconciler(mgr, cfg, scheme, kr, o)
	if err != nil {
		return nil, nil, err
	}
	if err := r.SetupWithManager(mgr, max(o.Concurrency, 1)); err != nil {
		return nil, nil, err
	}
	if err := addEndpoints(mgr, kr, o); err != nil {
		return nil, nil, err
	}
	return mgr, kr, nil
}

// addKeyring adds the keyring to mgr, its keys generated and rotated under
// the manager's Lease or, sharded, under the keys' own.
func addKeyring(mgr ctrl.Manager, cfg *rest.Config, o Options, shard labels.Selector) (*Keyring, error) {
	kr := NewKeyring(mgr.GetClient(), mgr.GetAPIReader(), ctrl.Log.WithName("keyring"), KeyringOptions{Namespace: o.Namespace, RenewPeriod: o.RenewPeriod, X25519: o.X25519})
	var maintain manager.Runnable = kr // under the manager's Lease
	if shard != nil {
		// Shards share the cluster keys, and each has its own leader: the
		// keys are generated and rotated by whichever process holds one
		// more Lease, common to all shards.
		var err error
		if maintain, err = newKeyLeader(cfg, kr, o); err != nil {
			return nil, err
		}
	}
	if err := mgr.Add(maintain); err != nil {
		return nil, err
	}
	return kr, nil
}

// newReconciler is the Reconciler of mgr's clients, with o's settings and
// its policy store.
func newReconciler(mgr ctrl.Manager, cfg *rest.Config, scheme *runtime.Scheme, kr *Keyring, o Options) (*Reconciler, error) {
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
	var err error
	if r.statusREST, err = apiutil.RESTClientForGVK(ksealv1.GroupVersion.WithKind("SealedSecret"), true, false, cfg, serializer.NewCodecFactory(scheme), mgr.GetHTTPClient()); err != nil {
		return nil, err
	}
	r.policy = &policyStore{client: mgr.GetClient(), namespace: o.Namespace, cluster: o.ClusterName, require: o.RequirePolicy, recorder: r.Recorder}
	return r, nil
}

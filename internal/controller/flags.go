package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/leaderelection"

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

// BindFlags binds the controller's flags to o and sets their defaults, as
// cert-manager's and Flux's option structs do: a new option is a field of
// Options and a line here, and docs/controller.md's flag table, which a test
// keeps in step with the flags, says what it does.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	o.LeaderElectionID = "kseal-controller.kseal.dev"
	ns := os.Getenv("KSEAL_NAMESPACE")
	if ns == "" {
		ns = "kseal-system"
	}
	fs.StringVar(&o.Namespace, "namespace", ns, "the controller's namespace: cluster keys, published recipients, leader lease ($KSEAL_NAMESPACE)")
	fs.Var((*commaList)(&o.WatchNamespaces), "watch-namespaces", "comma-separated namespaces to watch (default: all)")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", "", "unseal only the SealedSecrets whose labels match this selector, as Flux's controllers shard: e.g. 'sharding.fluxcd.io/key in (shard1)', or '!sharding.fluxcd.io/key' for the rest (default: all); each selector elects its own leader")
	fs.DurationVar(&o.RenewPeriod, "key-renew-period", 30*24*time.Hour, "generate a new cluster key this often; old keys keep opening")
	fs.BoolVar(&o.X25519, "x25519", false, "generate classic X25519 cluster keys instead of the post-quantum hybrid")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "Prometheus metrics address (0 disables)")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "/healthz and /readyz address")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "address serving /debug/pprof (0 disables)")
	fs.StringVar(&o.RecipientsAddr, "recipients-bind-address", ":8082", "address serving /v1/recipients (0 disables)")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "use a Lease so only one replica unseals and rotates keys")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long a standby waits before taking a Lease its leader stopped renewing (a leader that dies without releasing it)")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long the leader keeps retrying to renew its Lease before it stops; shorter than the lease duration")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "how often replicas try to acquire or renew the Lease; a Lease released by a stopped leader is taken within about this long")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "SealedSecrets reconciled in parallel")
	fs.StringVar(&o.ClusterName, "cluster-name", "", "this cluster's name in the policy (kseal.yaml clusters:), whose keys are the controller's")
	fs.BoolVar(&o.PolicyRevokeDeletes, "policy-revoke-deletes", false, "when the valid, current policy stops granting a SealedSecret, delete the Secret it had produced (default: keep it, mark PolicyDenied); an invalid or missing policy never deletes")
	fs.BoolVar(&o.RequirePolicy, "require-policy", false, "deny every unseal while no policy is configured (no kseal-policy ConfigMap and no kept copy of a valid one)")
	fs.BoolVar(&o.AllowControllerNamespace, "allow-controller-namespace", false, "also unseal SealedSecrets in the controller's own namespace (where its keys live)")
}

// ErrWatchLabelSelector marks a --watch-label-selector that does not parse.
var ErrWatchLabelSelector = errors.New("--watch-label-selector")

// ErrLeaderElection marks leader election timings that cannot work together.
var ErrLeaderElection = errors.New("leader election timings")

// Validate checks what single flags cannot: the leader election timings
// client-go's elector would refuse at start, named by their flags. The
// renew deadline must exceed the retry period with its jitter (×1.2), so
// that the leader gets more than one try to renew before it gives up, and
// stay under the lease duration, so that it gives up leading before a
// standby may take the Lease.
func (o *Options) Validate() error {
	if _, err := o.watchSelector(); err != nil {
		return err
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"--leader-elect-lease-duration", o.LeaseDuration},
		{"--leader-elect-renew-deadline", o.RenewDeadline},
		{"--leader-elect-retry-period", o.RetryPeriod},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%w: %s=%v: must be above zero", ErrLeaderElection, d.flag, d.v)
		}
	}
	if o.RenewDeadline >= o.LeaseDuration {
		return fmt.Errorf("%w: --leader-elect-renew-deadline=%v must be shorter than --leader-elect-lease-duration=%v: the leader must stop leading before a standby may take the Lease",
			ErrLeaderElection, o.RenewDeadline, o.LeaseDuration)
	}
	if o.RenewDeadline <= time.Duration(leaderelection.JitterFactor*float64(o.RetryPeriod)) {
		return fmt.Errorf("%w: --leader-elect-retry-period=%v must be shorter than --leader-elect-renew-deadline=%v with its jitter (×1.2): the leader retries renewing within the deadline",
			ErrLeaderElection, o.RetryPeriod, o.RenewDeadline)
	}
	return nil
}

// watchSelector parses --watch-label-selector as Flux's controllers do (set
// based: `key in (a,b)`, `!key`, `key=value`); nil when unset.
func (o *Options) watchSelector() (labels.Selector, error) {
	if o.WatchLabelSelector == "" {
		return nil, nil
	}
	ls, err := metav1.ParseToLabelSelector(o.WatchLabelSelector)
	if err == nil {
		var sel labels.Selector
		if sel, err = metav1.LabelSelectorAsSelector(ls); err == nil {
			return sel, nil
		}
	}
	return nil, fmt.Errorf("%w=%q: %v", ErrWatchLabelSelector, o.WatchLabelSelector, err)
}

// leaseName is the leader election Lease of this controller: the base ID
// alone when it unseals everything, and for a shard the base ID with a
// hash of its selector (as Flux names its shards' Leases), so each shard
// elects its own leader and the replicas of one shard share one.
func (o *Options) leaseName(sel labels.Selector) string {
	if sel == nil {
		return o.LeaderElectionID
	}
	sum := sha256.Sum256([]byte(sel.String())) // canonical: requirements sorted
	suffix := "-" + hex.EncodeToString(sum[:4])
	if head, tail, ok := strings.Cut(o.LeaderElectionID, "."); ok {
		return head + suffix + "." + tail
	}
	return o.LeaderElectionID + suffix
}

// setDuration is d for ctrl.Options, nil (controller-runtime's default)
// when unset.
func setDuration(d time.Duration) *time.Duration {
	if d == 0 {
		return nil
	}
	return &d
}

// commaList is a flag holding a comma-separated list.
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }

func (l *commaList) Set(s string) error {
	*l = nil
	if s != "" {
		*l = strings.Split(s, ",")
	}
	return nil
}

package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// keyLeader runs the keyring's maintenance (generating, rotating and
// publishing the cluster keys) in whichever process holds the keys Lease.
// Shards split the SealedSecrets but share one set of cluster keys, and
// each shard elects its own leader: under those leaders alone, every shard
// would generate a first key and rotate on its own clock, and publish what
// it last loaded. The keys Lease is common to all shards (it does not
// depend on the selector) and is taken whether or not --leader-elect is
// set, since it is about shards, not replicas.
type keyLeader struct {
	kr     *Keyring
	config leaderelection.LeaderElectionConfig
}

// keysLeaseName is the keys Lease's name: the base leader election ID with
// "-keys", so that it does not depend on any shard's selector.
func keysLeaseName(id string) string {
	if head, tail, ok := strings.Cut(id, "."); ok {
		return head + "-keys." + tail
	}
	return id + "-keys"
}

func newKeyLeader(cfg *rest.Config, kr *Keyring, o Options) (*keyLeader, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, o.Namespace, keysLeaseName(o.LeaderElectionID),
		cs.CoreV1(), cs.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: host + "_" + hex.EncodeToString(b)})
	if err != nil {
		return nil, err
	}
	orDefault := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &keyLeader{kr: kr, config: leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(o.LeaseDuration, 15*time.Second),
		RenewDeadline:   orDefault(o.RenewDeadline, 10*time.Second),
		RetryPeriod:     orDefault(o.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Name:            "cluster keys",
	}}, nil
}

// NeedLeaderElection: the keys Lease is the election; a shard's standby
// replicas may hold it too.
func (k *keyLeader) NeedLeaderElection() bool { return false }

// Start competes for the keys Lease until ctx ends, maintaining the keys
// while it holds it; a lost Lease stops the maintenance and the process
// competes again (unlike the manager's, losing it is no reason to exit).
func (k *keyLeader) Start(ctx context.Context) error {
	for ctx.Err() == nil {
		cfg := k.config
		cfg.Callbacks = leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) { _ = k.kr.Start(ctx) },
			OnStoppedLeading: func() {},
		}
		le, err := leaderelection.NewLeaderElector(cfg)
		if err != nil {
			return err
		}
		le.Run(ctx)
	}
	return nil
}

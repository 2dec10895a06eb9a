package main_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/internal/envtestutil"
)

// Leader election timings of TestLeaderFailover: short, so that waiting out
// a lease takes seconds, not the default 15 s.
const (
	haLease = 8 * time.Second
	haRenew = 5 * time.Second
	haRetry = 500 * time.Millisecond
)

// TestLeaderFailover runs two replicas with leader election (lease 8 s,
// renew deadline 5 s, retry 0.5 s), stops the leader in the middle of 600
// unseals, and checks that the standby unsealed nothing while it was
// standing by, takes over, finishes the work, and that no Secret was ever
// written twice: every Secret has exactly one version, its creation, with
// the right bytes. The failover time (signal to the new leader, and to its
// first unseal) is logged.
//
// SIGKILL leaves the Lease held: the standby must wait it out, so it leads
// no sooner than half a lease after the signal, and within the lease plus
// 3 s, well before the default 15 s lease would end (the flags reach the
// elector). SIGTERM is a graceful stop: the leader finishes its reconciles
// and then releases the Lease (LeaderElectionReleaseOnCancel), so the
// standby leads within about one retry period of that, well under half a
// lease.
func TestLeaderFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP under -short: the failover test runs two controllers against a real API server and waits out a lease")
	}
	t.Run("SIGKILL", func(t *testing.T) {
		leadAfter := failover(t, "SIGKILL", syscall.SIGKILL)
		if leadAfter < haLease/2 {
			t.Errorf("after SIGKILL the standby led after %v, before the held Lease (%v) could have expired", leadAfter, haLease)
		}
		// With the default 15 s lease it took 14-19 s.
		if latest := haLease + 3*time.Second; leadAfter >= latest {
			t.Errorf("after SIGKILL the standby led after %v, not within --leader-elect-lease-duration=%v (+3 s)", leadAfter, haLease)
		}
	})
	t.Run("SIGTERM", func(t *testing.T) {
		if leadAfter := failover(t, "SIGTERM", syscall.SIGTERM); leadAfter >= haLease/2 {
			t.Errorf("after SIGTERM the standby led after %v: the stopped leader did not release the Lease (lease %v)", leadAfter, haLease)
		}
	})
}

// failover runs TestLeaderFailover with the leader stopped by sig (named
// signame) and returns how long after the signal the standby led.
func failover(t *testing.T, signame string, sig syscall.Signal) time.Duration {
	const n = 600
	ns, ctrlNS := "ha-"+strings.ToLower(signame)+"-app", "kseal-ha-"+strings.ToLower(signame)
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	cfg, err := clientcmd.BuildConfigFromFlags("", r.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	k, err := client.NewWithWatch(cfg, client.Options{Scheme: controller.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, name := range []string{ns, ctrlNS} {
		if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--leader-elect", "--namespace=" + ctrlNS, "--watch-namespaces=" + ns,
		"--leader-elect-lease-duration=" + haLease.String(), "--leader-elect-renew-deadline=" + haRenew.String(),
		"--leader-elect-retry-period=" + haRetry.String()}
	a := r.startController(args...)
	poll(t, "replica a leads", func() error { return leads(a, true) })
	b := r.startController(args...)
	poll(t, "replica b stands by", func() error { return leads(b, false) })

	var rcp corev1.ConfigMap
	poll(t, "published recipient", func() error {
		return k.Get(ctx, client.ObjectKey{Namespace: ctrlNS, Name: ksealv1.RecipientsConfigMap}, &rcp)
	})
	pub := filepath.Join(r.dir, "cluster.pub")
	if err := os.WriteFile(pub, []byte(rcp.Data[ksealv1.RecipientsKey]), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	var manifests bytes.Buffer
	for i := range n {
		name := fmt.Sprintf("ha-%d", i)
		want[name] = []byte("value-" + randHex(8))
		fmt.Fprintf(&manifests, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ndata: {v: %s}\n", name, ns, base64.StdEncoding.EncodeToString(want[name]))
	}
	items := decodeSealed(t, r.must(manifests.Bytes(), "kseal", "seal", "--recipients-file", pub))

	// Record every version of every Secret in the namespace.
	w, err := k.Watch(ctx, &corev1.SecretList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	versions := map[string][]*corev1.Secret{}
	go func() {
		for e := range w.ResultChan() {
			if s, ok := e.Object.(*corev1.Secret); ok && (e.Type == watch.Added || e.Type == watch.Modified) {
				mu.Lock()
				versions[s.Name] = append(versions[s.Name], s)
				mu.Unlock()
			}
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(versions)
	}

	go func() {
		var g errgroup.Group
		g.SetLimit(8)
		for _, item := range items {
			g.Go(func() error { return k.Create(ctx, item) })
		}
		_ = g.Wait()
	}()
	poll(t, "work under way", func() error {
		if c := count(); c < n/6 {
			return fmt.Errorf("%d unsealed", c)
		}
		return nil
	})
	if v := metricValue(t, b, "kseal_unseal_total"); v != 0 {
		t.Errorf("the standby unsealed %v SealedSecrets while a leader ran", v)
	}
	before := count()
	if err := a.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	exited := make(chan time.Duration, 1)
	go func() {
		_ = a.cmd.Wait()
		exited <- time.Since(signalled)
	}()
	var leadAfter, workAfter time.Duration
	envtestutil.Eventually(t, "replica b takes over", 90*time.Second, 50*time.Millisecond, func() error {
		if leadAfter == 0 && leads(b, true) == nil {
			leadAfter = time.Since(signalled)
		}
		if metricValue(t, b, "kseal_unseal_total") == 0 {
			return fmt.Errorf("replica b has not unsealed yet")
		}
		workAfter = time.Since(signalled)
		return nil
	})
	exitAfter := <-exited
	if sig == syscall.SIGTERM && a.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("the leader stopped by SIGTERM exited %v:\n%s", a.cmd.ProcessState, a.log)
	}
	if before >= n {
		t.Errorf("the leader had unsealed all %d before it was stopped: not mid-work", n)
	}
	t.Logf("FIGURE failover after %s of the leader with %d of %d unsealed (lease %v, renew %v, retry %v): it exited after %v, new leader after %v, its first unseal after %v",
		signame, before, n, haLease, haRenew, haRetry, exitAfter.Round(10*time.Millisecond), leadAfter.Round(10*time.Millisecond), workAfter.Round(10*time.Millisecond))

	poll(t, "every SealedSecret unsealed", func() error {
		var l ksealv1.SealedSecretList
		if err := k.List(ctx, &l, client.InNamespace(ns)); err != nil {
			return err
		}
		done := 0
		for _, ss := range l.Items {
			if c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReady); c != nil && c.Reason == ksealv1.ReasonUnsealed && c.ObservedGeneration == ss.Generation {
				done++
			}
		}
		if done != n {
			return fmt.Errorf("%d of %d Ready", done, n)
		}
		return nil
	})
	b.stop() // let the last watch events arrive, then compare
	mu.Lock()
	defer mu.Unlock()
	if len(versions) != n {
		t.Errorf("%d Secrets seen, want %d", len(versions), n)
	}
	for name, vs := range versions {
		if len(vs) != 1 {
			t.Errorf("Secret %s was written %d times", name, len(vs))
		}
		for _, s := range vs {
			if !bytes.Equal(s.Data["v"], want[name]) || len(s.Data) != 1 {
				t.Errorf("Secret %s, version %s: wrong content", name, s.ResourceVersion)
			}
		}
	}
	return leadAfter
}

// leads says whether the replica's leader election status is want.
func leads(p *controllerProc, want bool) error {
	out, err := httpGet(context.Background(), "http://"+p.metrics+"/metrics")
	if err != nil {
		return err
	}
	is := strings.Contains(out, `leader_election_master_status{name="kseal-controller.kseal.dev"} 1`)
	if is != want {
		return fmt.Errorf("leader = %v", is)
	}
	return nil
}

// metricValue reads an unlabelled counter or gauge from the replica (0 when
// absent or unreachable).
func metricValue(t *testing.T, p *controllerProc, name string) float64 {
	t.Helper()
	out, err := httpGet(context.Background(), "http://"+p.metrics+"/metrics")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

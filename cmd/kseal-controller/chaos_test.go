package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/internal/envtestutil"
)

// chaosN is how many SealedSecrets the chaos test unseals.
const chaosN = 2000

// TestChaosUnseal unseals 2000 SealedSecrets while the controller is killed
// (SIGKILL) five times at random points and the API server is restarted
// once. At the end every Secret holds exactly its bytes and is controlled by
// its SealedSecret, no Secret kseal does not own was touched, every
// SealedSecret reached its final Ready condition, and no plaintext appeared
// in the controller's logs, in events, in any status or in the metrics.
func TestChaosUnseal(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP under -short: the chaos test (2000 unseals, 5 controller kills, an API server restart) needs a real API server and a minute or two")
	}
	c := envtestutil.StartCluster(t)
	r := &runner{t: t, kubeconfig: c.Kubeconfig, dir: t.TempDir()}
	k, err := client.New(c.Config, client.Options{Scheme: controller.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const ns = "chaos"
	for _, n := range []string{"kseal-system", ns} {
		if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	marker := "plain" + randHex(8)

	// Secrets kseal must not touch: unrelated ones, and ones whose names
	// SealedSecrets will claim without the owner's consent.
	foreign := map[string]*corev1.Secret{}
	for i := range 50 {
		name := fmt.Sprintf("unrelated-%d", i)
		if i < 10 {
			name = fmt.Sprintf("taken-%d", i)
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"v": []byte("keep-" + name)}}
		if err := k.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		foreign[name] = s
	}

	ctl := r.startController()
	pub := filepath.Join(r.dir, "cluster.pub")
	poll(t, "cluster recipient", func() error {
		_, err := r.run(nil, "kseal", "fetch-recipients", "-o", pub)
		return err
	})

	// The plaintext: every value carries the marker; one is binary.
	want := map[string]map[string][]byte{}
	var manifests bytes.Buffer
	for i := range chaosN + 10 {
		name := fmt.Sprintf("app-%d", i)
		if i >= chaosN {
			name = fmt.Sprintf("taken-%d", i-chaosN)
		}
		blob := append([]byte(marker), randBytes(24)...)
		vals := map[string][]byte{"password": []byte(marker + "-" + randHex(12)), "url": []byte("postgres://" + marker + "@db/" + name), "blob": blob}
		want[name] = vals
		fmt.Fprintf(&manifests, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ndata:\n", name, ns)
		for _, key := range []string{"password", "url", "blob"} {
			fmt.Fprintf(&manifests, "  %s: %s\n", key, base64.StdEncoding.EncodeToString(vals[key]))
		}
	}
	sealedYAML := r.must(manifests.Bytes(), "kseal", "seal", "--recipients-file", pub)
	items := decodeSealed(t, sealedYAML)
	if len(items) != chaosN+10 {
		t.Fatalf("kseal seal produced %d SealedSecrets, want %d", len(items), chaosN+10)
	}

	// Create them while the chaos runs.
	var created atomic.Int64
	createDone := make(chan error, 1)
	go func() {
		var g errgroup.Group
		g.SetLimit(8)
		for _, item := range items {
			g.Go(func() error {
				err := retryAPI(ctx, func() error { return client.IgnoreAlreadyExists(k.Create(ctx, item.DeepCopy())) })
				created.Add(1)
				return err
			})
		}
		createDone <- g.Wait()
	}()

	unsealed := func() int {
		var l corev1.SecretList
		if err := k.List(ctx, &l, client.InNamespace(ns), client.MatchingLabels{ksealv1.LabelManaged: ksealv1.ManagedSecret}); err != nil {
			return -1
		}
		return len(l.Items)
	}
	var logs []string
	for kill := range 5 {
		time.Sleep(time.Duration(300+randInt(2200)) * time.Millisecond)
		if kill == 2 {
			t.Logf("restarting the API server (%d created, %d unsealed)", created.Load(), unsealed())
			if err := c.RestartAPIServer(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(randInt(1000)) * time.Millisecond)
		}
		t.Logf("kill -9 %d: %d SealedSecrets created, %d unsealed", kill+1, created.Load(), unsealed())
		_ = ctl.cmd.Process.Kill()
		_ = ctl.cmd.Wait()
		logs = append(logs, ctl.log.String())
		ctl = r.startController()
	}
	if err := <-createDone; err != nil {
		t.Fatalf("creating SealedSecrets: %v", err)
	}
	t.Logf("all %d SealedSecrets created; %d unsealed", len(items), unsealed())

	// Every SealedSecret reaches its final state.
	envtestutil.Eventually(t, "every SealedSecret settled", 4*time.Minute, time.Second, func() error {
		var l ksealv1.SealedSecretList
		if err := k.List(ctx, &l, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(l.Items) != len(items) {
			return fmt.Errorf("%d SealedSecrets", len(l.Items))
		}
		pending := 0
		var example string
		for _, ss := range l.Items {
			c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReady)
			wantReason := ksealv1.ReasonUnsealed
			if strings.HasPrefix(ss.Name, "taken-") {
				wantReason = ksealv1.ReasonSecretNotOwned
			}
			if c != nil && wantReason == ksealv1.ReasonSecretNotOwned && c.Reason == ksealv1.ReasonUnsealed {
				t.Fatalf("SealedSecret %s took over the Secret another owner holds", ss.Name)
			}
			if c == nil || c.ObservedGeneration != ss.Generation || c.Reason != wantReason {
				pending++
				example = fmt.Sprintf("%s: %+v", ss.Name, c)
			}
		}
		if pending > 0 {
			return fmt.Errorf("%d not settled, e.g. %s", pending, example)
		}
		return nil
	})
	metrics, err := httpGet(ctx, "http://"+ctl.metrics+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	ctl.stop()
	logs = append(logs, ctl.log.String())

	// Every Secret holds its bytes, controlled by its SealedSecret.
	var secrets corev1.SecretList
	if err := k.List(ctx, &secrets, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var sealedList ksealv1.SealedSecretList
	if err := k.List(ctx, &sealedList, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	owner := map[string]*ksealv1.SealedSecret{}
	for i := range sealedList.Items {
		owner[sealedList.Items[i].Name] = &sealedList.Items[i]
	}
	seen := 0
	for i := range secrets.Items {
		s := &secrets.Items[i]
		if f, ok := foreign[s.Name]; ok {
			if s.ResourceVersion != f.ResourceVersion || string(s.Data["v"]) != "keep-"+s.Name || len(s.Data) != 1 || len(s.OwnerReferences) != 0 {
				t.Errorf("Secret %s, not kseal's, was touched: resourceVersion %s (was %s), %d keys, owners %v", s.Name, s.ResourceVersion, f.ResourceVersion, len(s.Data), s.OwnerReferences)
			}
			continue
		}
		vals, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected Secret %s", s.Name)
			continue
		}
		seen++
		if !metav1.IsControlledBy(s, owner[s.Name]) {
			t.Errorf("Secret %s is not controlled by its SealedSecret: %v", s.Name, s.OwnerReferences)
		}
		if len(s.Data) != len(vals) {
			t.Errorf("Secret %s has %d keys, want %d", s.Name, len(s.Data), len(vals))
		}
		for key, v := range vals {
			if !bytes.Equal(s.Data[key], v) {
				t.Errorf("Secret %s: %s differs", s.Name, key)
			}
		}
	}
	if seen != chaosN {
		t.Errorf("%d unsealed Secrets, want %d", seen, chaosN)
	}

	// No plaintext in logs, events, status or metrics.
	var evs eventsv1.EventList
	if err := k.List(ctx, &evs); err != nil {
		t.Fatal(err)
	}
	var coreEvs corev1.EventList
	if err := k.List(ctx, &coreEvs); err != nil {
		t.Fatal(err)
	}
	statuses := make([]ksealv1.SealedSecretStatus, 0, len(sealedList.Items))
	for _, ss := range sealedList.Items {
		statuses = append(statuses, ss.Status)
	}
	places := map[string]string{"metrics": metrics, "events": mustJSON(t, evs) + mustJSON(t, coreEvs), "status": mustJSON(t, statuses)}
	for i, l := range logs {
		places[fmt.Sprintf("controller log %d", i+1)] = l
	}
	for where, text := range places {
		if needle := findPlaintext(text, marker); needle != "" {
			t.Errorf("plaintext (%q) in %s", needle, where)
		}
	}
	if len(evs.Items) == 0 {
		t.Error("no events at all: the scan would be vacuous (the taken-* SealedSecrets must have warned)")
	}
}

// findPlaintext returns the form of marker found in text: raw, or base64 at
// any of the three alignments.
func findPlaintext(text, marker string) string {
	needles := []string{marker}
	for pad := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, pad), marker...))
		// Drop the characters that depend on the padding or what follows.
		start := (pad*8 + 5) / 6
		end := len(enc) - 4
		if end > start {
			needles = append(needles, enc[start:end])
		}
	}
	for _, n := range needles {
		if strings.Contains(text, n) {
			return n
		}
	}
	return ""
}

func decodeSealed(t *testing.T, text string) []*ksealv1.SealedSecret {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var out []*ksealv1.SealedSecret
	for {
		var ss ksealv1.SealedSecret
		if err := dec.Decode(&ss); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decoding kseal seal output: %v", err)
		}
		if ss.Name != "" {
			out = append(out, &ss)
		}
	}
}

// retryAPI retries f for up to a minute: the API server may be restarting.
func retryAPI(ctx context.Context, f func() error) error {
	var err error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = f(); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

func randInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}

// TestFindPlaintext checks the chaos test's scanner: the marker is found
// raw and base64-encoded at every alignment, and only there.
func TestFindPlaintext(t *testing.T) {
	const m = "plain0123abcd"
	for _, prefix := range []string{"", "x", "xy", "xyz", "postgres://"} {
		enc := base64.StdEncoding.EncodeToString([]byte(prefix + m + "-tail"))
		if findPlaintext(`{"msg":"`+enc+`"}`, m) == "" {
			t.Errorf("base64 of %q not found", prefix+m)
		}
		if findPlaintext("x "+prefix+m, m) == "" {
			t.Errorf("raw %q not found", prefix+m)
		}
	}
	if n := findPlaintext("nothing secret here, plain0123abc", m); n != "" {
		t.Errorf("false positive %q", n)
	}
}

// The clients these tests build log through controller-runtime.
func init() { ctrllog.SetLogger(logr.Discard()) }

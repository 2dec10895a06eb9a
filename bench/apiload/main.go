// Command apiload measures, for bench/unseal.sh, what the API server itself
// can do, so that the controller's figures have something to be read
// against:
//
//	apiload ceiling -f sealed.yaml -namespace NS -c 32
//	apiload latency -f sealed.yaml -namespace NS -n 100
//
// ceiling creates the SealedSecrets of sealed.yaml in NS (untimed), then
// times, with c clients, exactly the writes one unseal needs: a status
// patch of the SealedSecret and the create of its Secret (same labels,
// annotations, owner reference and value sizes). It prints the rate and
// deletes what it made.
//
// latency applies the SealedSecrets one at a time with kubectl apply and
// times each until its Secret exists (a running controller unseals them):
// the first-Secret latency a user sees, p50 and p99.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: apiload ceiling|latency [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	file := fs.String("f", "", "multi-document YAML of SealedSecrets")
	ns := fs.String("namespace", "", "namespace to work in (must exist)")
	conc := fs.Int("c", 32, "concurrent clients (ceiling)")
	n := fs.Int("n", 100, "objects to time (latency)")
	watchToo := fs.Bool("watch", false, "keep the watches a controller keeps open (SealedSecrets in full, Secrets as metadata) and decode their events while timing (ceiling)")
	server := fs.String("server-pids", "", "comma-separated PIDs of the API server and etcd: report their CPU time per pair (ceiling)")
	_ = fs.Parse(os.Args[2:])
	serverPIDs = strings.Split(*server, ",")
	var err error
	switch os.Args[1] {
	case "ceiling":
		err = ceiling(*file, *ns, *conc, *watchToo)
	case "latency":
		err = latency(*file, *ns, *n)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "apiload %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

var serverPIDs []string

// cpuOf is the CPU time (user and system) the processes have used so far;
// a process that cannot be read counts nothing.
func cpuOf(pids ...string) time.Duration {
	var ticks int64
	for _, p := range pids {
		if p == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", p, "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name (in parentheses, which may hold
		// spaces): utime and stime are the 12th and 13th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

func perItem(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / 1000 / float64(n)
}

func newClient() (client.WithWatch, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 500, 1000 // the controller's defaults
	return client.NewWithWatch(cfg, client.Options{Scheme: controller.Scheme()})
}

// load connects to the API server and reads the SealedSecrets of file,
// placed in ns.
func load(file, ns string) (client.WithWatch, []*ksealv1.SealedSecret, error) {
	k, err := newClient()
	if err != nil {
		return nil, nil, err
	}
	items, err := readSealed(file, ns)
	return k, items, err
}

func readSealed(file, ns string) ([]*ksealv1.SealedSecret, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*ksealv1.SealedSecret
	for {
		var ss ksealv1.SealedSecret
		if err := dec.Decode(&ss); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, len(out)+1, err)
		}
		if ss.Name == "" {
			continue
		}
		ss.Namespace = ns
		out = append(out, &ss)
	}
}

func ceiling(file, ns string, c int, watchToo bool) error {
	ctx := context.Background()
	k, items, err := load(file, ns)
	if err != nil {
		return err
	}
	if err := pool(len(items), c, func(i int) error { return k.Create(ctx, items[i]) }); err != nil {
		return fmt.Errorf("creating SealedSecrets: %w", err)
	}
	gvk, err := apiutil.GVKForObject(&ksealv1.SealedSecret{}, k.Scheme())
	if err != nil {
		return err
	}
	with := ""
	if watchToo {
		with = ", watched like the controller watches"
		secrets := &metav1.PartialObjectMetadataList{}
		secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		for _, l := range []client.ObjectList{&ksealv1.SealedSecretList{}, secrets} {
			w, err := k.Watch(ctx, l, client.InNamespace(ns))
			if err != nil {
				return err
			}
			defer w.Stop()
			go func() {
				for range w.ResultChan() { // decoded by the client, as an informer does
				}
			}()
		}
	}
	t0, s0, c0 := time.Now(), cpuOf(serverPIDs...), cpuOf("self")
	err = pool(len(items), c, func(i int) error {
		ss := items[i]
		before := ss.DeepCopy()
		meta.SetStatusCondition(&ss.Status.Conditions, metav1.Condition{Type: ksealv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ksealv1.ReasonUnsealed, Message: "Secret " + ss.Name + " is up to date", ObservedGeneration: ss.Generation})
		ss.Status.ObservedGeneration = ss.Generation
		ss.Status.KeyIDs = []string{"0123456789abcdef"}
		if err := k.Status().Patch(ctx, ss, client.MergeFrom(before)); err != nil {
			return err
		}
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: ss.Name, Namespace: ns,
				Labels:          map[string]string{ksealv1.LabelManaged: ksealv1.ManagedSecret},
				Annotations:     map[string]string{ksealv1.AnnotationSealedHash: "sha256:0123456789abcdef0123456789abcdef"},
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ss, gvk)},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"username": []byte("u1234"), "password": []byte("p1234-12345"), "url": []byte("postgres://db:5432/1234")},
		}
		return k.Create(ctx, s)
	})
	d, s1, c1 := time.Since(t0), cpuOf(serverPIDs...), cpuOf("self")
	if err != nil {
		return err
	}
	fmt.Printf("API server ceiling%s: %d x (status patch + Secret create) with %d clients in %.2f s: %.1f per second (CPU per pair: API server and etcd %.2f ms, this client %.2f ms)\n",
		with, len(items), c, d.Seconds(), float64(len(items))/d.Seconds(), perItem(s1-s0, len(items)), perItem(c1-c0, len(items)))
	// Clean up, untimed: no garbage collector runs here.
	if err := k.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns)); err != nil {
		return err
	}
	return k.DeleteAllOf(ctx, &ksealv1.SealedSecret{}, client.InNamespace(ns))
}

func latency(file, ns string, n int) error {
	ctx := context.Background()
	k, items, err := load(file, ns)
	if err != nil {
		return err
	}
	items = items[:min(n, len(items))]
	kubectl := os.Getenv("KSEAL_KUBECTL")
	if kubectl == "" {
		kubectl = filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	}
	dir, err := os.MkdirTemp("", "apiload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var ds []time.Duration
	for _, ss := range items {
		ss.APIVersion, ss.Kind = ksealv1.GroupVersion.String(), "SealedSecret"
		b, err := json.Marshal(ss)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, ss.Name+".json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return err
		}
		w, err := k.Watch(ctx, &corev1.SecretList{}, client.InNamespace(ns), client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", ss.Name)})
		if err != nil {
			return err
		}
		t0 := time.Now()
		if out, err := exec.Command(kubectl, "apply", "-f", p).CombinedOutput(); err != nil {
			w.Stop()
			return fmt.Errorf("kubectl apply: %v: %s", err, out)
		}
		timeout := time.After(60 * time.Second)
	wait:
		for {
			select {
			case e, ok := <-w.ResultChan():
				if !ok {
					w.Stop()
					return fmt.Errorf("watch of Secret %s/%s closed", ns, ss.Name)
				}
				if e.Type == watch.Added {
					break wait
				}
			case <-timeout:
				w.Stop()
				return fmt.Errorf("the Secret %s/%s did not appear within 60 s", ns, ss.Name)
			}
		}
		ds = append(ds, time.Since(t0))
		w.Stop()
	}
	slices.Sort(ds)
	pct := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	fmt.Printf("first-Secret latency after kubectl apply (%d objects, one at a time, kubectl start included): p50 %d ms, p99 %d ms, max %d ms\n",
		len(ds), pct(0.50).Milliseconds(), pct(0.99).Milliseconds(), ds[len(ds)-1].Milliseconds())
	return nil
}

// pool calls f for each index below n on up to c goroutines and returns the
// first error.
func pool(n, c int, f func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(c)
	for i := range n {
		g.Go(func() error { return f(i) })
	}
	return g.Wait()
}

package main_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/internal/envtestutil"
)

const (
	fluxNS   = "flux-system"
	appsNS   = "flux-apps"
	deniedNS = "flux-denied" // the policy grants it only the other key
)

// TestFluxLoop runs the GitOps loop docs/flux.md describes with Flux's own
// source-controller and kustomize-controller: sealed files committed to a
// git repository the test serves become Secrets; a Kustomization with
// wait: true — and one whose healthChecks name a SealedSecret — turns Ready
// only once every SealedSecret is; one that cannot open (sealed to another
// key, its template edited, or sealed to a key kseal's policy does not
// grant its namespace) fails the Kustomization at once, naming it; a commit
// that changes a value is unsealed and the Kustomization is Ready again;
// and a SealedSecret pruned from git takes its Secret with it.
func TestFluxLoop(t *testing.T) {
	envtestutil.Require(t, cluster)
	ft := needFlux(t)
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	installFluxCRDs(t, cluster, ft.crds)
	for _, ns := range []string{controllerNS, fluxNS, appsNS, deniedNS} {
		r.must([]byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n"), "kubectl", "apply", "-f", "-")
	}
	r.gc()

	// The cluster key first: sealing needs only its public recipient. The
	// controller then stops, so that Flux finds SealedSecrets nobody has
	// unsealed yet.
	ctrl := r.startController()
	var pub string
	poll(t, "cluster recipient", func() (err error) {
		pub, err = r.run(nil, "kseal", "fetch-recipients")
		return err
	})
	ctrl.stop()
	r.write("cluster.pub", pub)
	other := strings.TrimSpace(r.must(nil, "kseal", "keygen", "-o", "other.key"))
	r.setPolicy(fmt.Sprintf(fluxPolicy, appsNS, deniedNS, other))

	db := r.sealApp("db", nil, map[string]string{"password": "first-password"})
	api := r.sealApp("api", nil, map[string]string{"token": "api-token"})
	cache := r.sealApp("cache", map[string]string{"tier": "cache"}, map[string]string{"url": "redis://cache"})
	repo := serveGit(t, ft.git)
	rev1 := repo.commit("sealed secrets", map[string]string{"apps/db.yaml": db, "apps/api.yaml": api, "named/cache.yaml": cache})

	// source-controller serves the artifacts kustomize-controller downloads.
	storage := freeAddr(t)
	r.startFlux(ft.sourceController, "--storage-path="+t.TempDir(), "--storage-addr="+storage, "--storage-adv-addr="+storage)
	r.startFlux(ft.kustomizeController)
	r.must([]byte(fmt.Sprintf(fluxObjects, fluxNS, repo.URL, appsNS)), "kubectl", "apply", "-f", "-")

	t.Log("Flux applied the SealedSecrets and waits: nothing is unsealed")
	r.waitKustomization("health checks running on the first revision", fluxNS, "apps", func(o *fluxObject) error {
		if c := o.condition("Healthy"); c.Status != metav1.ConditionUnknown || !strings.Contains(c.Message, "Running health checks for revision "+rev1) {
			return fmt.Errorf("health checks not running (Healthy=%s: %s)", c.Status, c.Message)
		}
		return nil
	})
	// Two rounds of Flux's health check (it polls every 5 s): a
	// SealedSecret read as healthy before it is unsealed would have made
	// a Kustomization Ready by then.
	// It looks until the window has passed and once after it, however
	// slowly kubectl answers on a loaded machine.
	notReady := func() {
		for _, name := range []string{"apps", "cache"} {
			if o, err := r.get("kustomization", fluxNS, name); err == nil && o.ready().Status == metav1.ConditionTrue {
				t.Fatalf("Kustomization %s is Ready while no SealedSecret is unsealed: %s", name, o.ready().Message)
			}
		}
	}
	for deadline := time.Now().Add(11 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		notReady()
	}
	notReady()

	t.Log("kseal-controller runs: Secrets, then Ready Kustomizations")
	r.startController("--cluster-name=test") // the policy's cluster
	apps := r.waitKustomization("apps Ready at "+rev1, fluxNS, "apps", readyAt(rev1))
	named := r.waitKustomization("cache Ready at "+rev1, fluxNS, "cache", readyAt(rev1))
	r.wantSecret("db", "password", "first-password")
	r.wantSecret("api", "token", "api-token")
	r.wantSecret("cache", "url", "redis://cache")
	for ks, names := range map[*fluxObject][]string{apps: {"db", "api"}, named: {"cache"}} {
		for _, name := range names {
			ss, err := r.get("sealedsecret", appsNS, name)
			if err != nil {
				t.Fatal(err)
			}
			if c := ss.ready(); c.Status != metav1.ConditionTrue || c.LastTransitionTime.After(ks.ready().LastTransitionTime.Time) {
				t.Errorf("SealedSecret %s turned Ready (%s at %s) after its Kustomization (at %s)",
					name, c.Status, c.LastTransitionTime, ks.ready().LastTransitionTime)
			}
		}
	}

	t.Log("a SealedSecret that cannot open fails its Kustomization, which names it")
	// The label's last occurrence is the template's: the first is the
	// SealedSecret's own, which is not sealed (GitOps tools label it).
	i := strings.LastIndex(cache, "tier: cache")
	if i < 0 || i == strings.Index(cache, "tier: cache") {
		t.Fatalf("no template label to tamper with in:\n%s", cache)
	}
	tampered := cache[:i] + "tier: evil" + cache[i+len("tier: cache"):]
	rev2 := repo.commit("a foreign key, a tampered template, a key the policy does not grant", map[string]string{
		"apps/wrong-key.yaml": r.sealApp("wrong-key", nil, map[string]string{"k": "v"}, "-r", other),
		"named/cache.yaml":    tampered,
		// The controller holds the cluster key; the policy does not
		// grant it to this namespace.
		"denied/denied.yaml": r.seal(deniedNS, "denied", nil, map[string]string{"k": "v"}),
	})
	r.fluxReconcile("gitrepository", fluxNS, "apps")
	r.must([]byte(fmt.Sprintf(fluxDenied, fluxNS)), "kubectl", "apply", "-f", "-")
	for _, tc := range []struct{ ks, ns, ss, reason string }{
		{"apps", appsNS, "wrong-key", "NoMatchingKey"},
		{"cache", appsNS, "cache", "IntegrityFailed"},
		{"denied", deniedNS, "denied", "PolicyDenied"},
	} {
		r.wantHealthFailed(tc.ks, rev2, tc.ns, tc.ss, tc.reason)
	}
	// What the threat model cares about is not the status but the
	// Secrets: the failures above are already on the SealedSecrets, so
	// the controller has acted on each, and none may have produced or
	// changed a Secret.
	r.wantNoSecret(appsNS, "wrong-key")
	r.wantNoSecret(deniedNS, "denied")
	// The edited label must not reach the Secret: it keeps the genuine
	// template's, and its value.
	if tier := r.must(nil, "kubectl", "-n", appsNS, "get", "secret", "cache", "-o", "jsonpath={.metadata.labels.tier}"); tier != "cache" {
		t.Errorf("Secret cache has label tier=%q after its template was tampered with, want the genuine %q", tier, "cache")
	}
	r.wantSecret("cache", "url", "redis://cache")
	// Deleting the Kustomization prunes what it applied, before its path
	// leaves git.
	r.must(nil, "kubectl", "-n", fluxNS, "delete", "kustomization", "denied", "--timeout=60s")

	t.Log("a new value is unsealed; pruned SealedSecrets take their Secrets")
	rev3 := repo.commit("new password; drop wrong-key, api and denied; restore cache", map[string]string{
		"apps/db.yaml":        r.sealApp("db", nil, map[string]string{"password": "second-password"}),
		"apps/wrong-key.yaml": "",
		"apps/api.yaml":       "",
		"named/cache.yaml":    cache,
		"denied/denied.yaml":  "",
	})
	r.fluxReconcile("gitrepository", fluxNS, "apps")
	r.waitKustomization("apps Ready again at "+rev3, fluxNS, "apps", readyAt(rev3))
	r.waitKustomization("cache Ready again at "+rev3, fluxNS, "cache", readyAt(rev3))
	r.wantSecret("db", "password", "second-password")
	for _, kind := range []string{"sealedsecret", "secret"} {
		poll(t, "api and wrong-key ("+kind+") pruned", func() error {
			out, err := r.run(nil, "kubectl", "-n", appsNS, "get", kind, "-o", "name")
			if err != nil {
				return err
			}
			if strings.Contains(out, "/api\n") || strings.Contains(out, "/wrong-key\n") {
				return fmt.Errorf("still there: %s", out)
			}
			return nil
		})
	}
}

// sealApp seals a Secret name in the apps namespace (see seal).
func (r *runner) sealApp(name string, labels, data map[string]string, to ...string) string {
	r.t.Helper()
	return r.seal(appsNS, name, labels, data, to...)
}

// seal seals a Secret ns/name with the kseal CLI, to the cluster recipient
// in cluster.pub unless to names other recipients.
func (r *runner) seal(ns, name string, labels, data map[string]string, to ...string) string {
	r.t.Helper()
	doc := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n", name, ns)
	if len(labels) > 0 {
		doc += "  labels:\n"
		for k, v := range labels {
			doc += fmt.Sprintf("    %s: %s\n", k, v)
		}
	}
	doc += "stringData:\n"
	for k, v := range data {
		doc += fmt.Sprintf("  %s: %q\n", k, v)
	}
	r.write(name+".plain.yaml", doc)
	if len(to) == 0 {
		to = []string{"--recipients-file", "cluster.pub"}
	}
	return r.must(nil, "kseal", append(append([]string{"seal"}, to...), "-f", name+".plain.yaml")...)
}

// wantHealthFailed waits until the Kustomization ks fails its health check
// at revision, at once rather than at its timeout, naming the SealedSecret
// ns/ss, whose own Ready condition gives reason.
func (r *runner) wantHealthFailed(ks, revision, ns, ss, reason string) {
	r.t.Helper()
	o := r.waitKustomization(ks+" failed at "+revision, fluxNS, ks, func(o *fluxObject) error {
		c := o.ready()
		if o.Status.LastAttemptedRevision != revision || c.Status != metav1.ConditionFalse || c.Reason != "HealthCheckFailed" {
			return fmt.Errorf("no failed health check at %s", revision)
		}
		return nil
	})
	msg := o.ready().Message
	for _, want := range []string{"failed early due to stalled resources", "SealedSecret/" + ns + "/" + ss + " status: 'Failed'"} {
		if !strings.Contains(msg, want) {
			r.t.Errorf("Kustomization %s's Ready message lacks %q: %s", ks, want, msg)
		}
	}
	obj, err := r.get("sealedsecret", ns, ss)
	if err != nil {
		r.t.Fatal(err)
	}
	c := obj.ready()
	if c.Reason != reason {
		r.t.Errorf("SealedSecret %s: Ready %s %s: %s, want reason %s", ss, c.Status, c.Reason, c.Message, reason)
	}
	r.t.Logf("Kustomization %s: %s\n\tSealedSecret %s: %s: %s", ks, msg, ss, c.Reason, c.Message)
}

// fluxObjects: the GitRepository and two Kustomizations (namespace, git
// URL, apps namespace), with intervals short enough for a test.
const fluxObjects = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: apps, namespace: %[1]s}
spec:
  interval: 5s
  url: %[2]s
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: %[1]s}
spec:
  interval: 10s
  retryInterval: 5s
  timeout: 2m
  sourceRef: {kind: GitRepository, name: apps}
  path: ./apps
  prune: true
  wait: true
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: cache, namespace: %[1]s}
spec:
  interval: 10s
  retryInterval: 5s
  timeout: 2m
  sourceRef: {kind: GitRepository, name: apps}
  path: ./named
  prune: true
  healthChecks:
  - apiVersion: kseal.dev/v1alpha1
    kind: SealedSecret
    name: cache
    namespace: %[3]s
`

// fluxDenied: a Kustomization (namespace) of the SealedSecret the policy
// denies, apart from the others so that each failure is its own.
const fluxDenied = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: denied, namespace: %s}
spec:
  interval: 10s
  retryInterval: 5s
  timeout: 2m
  sourceRef: {kind: GitRepository, name: apps}
  path: ./denied
  prune: true
  wait: true
`

// fluxPolicy (apps namespace, denied namespace, the other key's recipient)
// grants the apps namespace both keys the test seals to, so that the wrong
// key fails for want of the key (NoMatchingKey) and not by policy, and the
// denied namespace the other key only.
const fluxPolicy = `apiVersion: kseal.dev/v1alpha1
kind: Policy
clusters:
  test: {recipientsFile: test.pub}
keys:
  cluster: {cluster: test}
  other: {recipient: %[3]s}
services:
  apps: {namespaces: [%[1]s], keys: [cluster, other]}
  denied: {namespaces: [%[2]s], keys: [other]}
`

// setPolicy serves text to the controller as its policy ConfigMap, and
// removes it and the controller's kept copy when the test ends, so that no
// later test in the package runs under it.
func (r *runner) setPolicy(text string) {
	r.t.Helper()
	// Not named kseal.yaml: kseal seal would find it and follow it.
	r.write("cluster-policy.yaml", text)
	r.must(nil, "kubectl", "-n", controllerNS, "create", "configmap", controller.PolicyConfigMap,
		"--from-file="+controller.PolicyKey+"=cluster-policy.yaml")
	r.t.Cleanup(func() {
		if _, err := r.run(nil, "kubectl", "-n", controllerNS, "delete", "configmap", "--ignore-not-found",
			controller.PolicyConfigMap, controller.PolicyAppliedConfigMap); err != nil {
			r.t.Error(err)
		}
	})
}

// wantNoSecret fails unless there is no Secret ns/name.
func (r *runner) wantNoSecret(ns, name string) {
	r.t.Helper()
	if out := r.must(nil, "kubectl", "-n", ns, "get", "secret", name, "--ignore-not-found", "-o", "name"); out != "" {
		r.t.Errorf("a Secret %s/%s exists though its SealedSecret cannot open: %s", ns, name, strings.TrimSpace(out))
	}
}

// wantSecret polls until the Secret name in the apps namespace holds want
// under key.
func (r *runner) wantSecret(name, key, want string) {
	r.t.Helper()
	poll(r.t, "Secret "+name, func() error {
		out, err := r.run(nil, "kubectl", "-n", appsNS, "get", "secret", name, "-o", "jsonpath={.data."+key+"}")
		if err != nil {
			return err
		}
		if b, _ := base64.StdEncoding.DecodeString(out); string(b) != want {
			return fmt.Errorf("%s is %q", key, b)
		}
		return nil
	})
}

package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"kseal.dev/kseal/cmd/kseal-controller/app"
	"kseal.dev/kseal/internal/envtestutil"
	"kseal.dev/kseal/pkg/keys"
	_ "kseal.dev/kseal/pkg/keys/vaulttransit" // its controller flags
)

var chart = filepath.Join(root, "charts", "kseal")

// objects decodes a multi-document manifest, keyed by kind/namespace/name.
func objects(t *testing.T, what string, b []byte) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var m map[string]any
		err := d.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		out[u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName()] = u
	}
}

// chartClusterName is what the chart names its cluster-scoped objects
// for release kseal in controllerNS: release-scoped, so that it installs
// beside config/install.yaml (whose objects are named controllerSA).
const chartClusterName = controllerSA + ":" + controllerNS + ":kseal"

func helmTemplate(t *testing.T, args ...string) map[string]*unstructured.Unstructured {
	t.Helper()
	helm := tool(t, "KSEAL_HELM")
	cmd := exec.Command(helm, append([]string{"template", "kseal", chart, "--namespace", controllerNS, "--include-crds"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	return objects(t, "helm template", out)
}

// asInstallNames renames the chart's release-scoped cluster objects (and
// references to them) to config/install.yaml's names, so the two compare
// object by object; it fails if any cluster-scoped RBAC object has another
// name.
func asInstallNames(t *testing.T, objs map[string]*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	for key, u := range objs {
		switch u.GetKind() {
		case "ClusterRole", "ClusterRoleBinding":
			if u.GetName() != chartClusterName {
				t.Errorf("%s is not named for the release (%s)", key, chartClusterName)
			}
			u = u.DeepCopy()
			u.SetName(controllerSA)
			key = u.GetKind() + "//" + controllerSA
		}
		if ref, ok := u.Object["roleRef"].(map[string]any); ok && ref["kind"] == "ClusterRole" {
			if ref["name"] != chartClusterName {
				t.Errorf("%s refers to ClusterRole %v, not the release's", key, ref["name"])
			}
			u = u.DeepCopy()
			u.Object["roleRef"].(map[string]any)["name"] = controllerSA
		}
		out[key] = u
	}
	return out
}

func field(t *testing.T, u *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, _, err := unstructured.NestedFieldNoCopy(u.Object, path...)
	if err != nil {
		t.Fatalf("%s %s: %s: %v", u.GetKind(), u.GetName(), strings.Join(path, "."), err)
	}
	return v
}

func container(t *testing.T, deploy *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _ := field(t, deploy, "spec", "template", "spec", "containers").([]any)
	if len(cs) != 1 {
		t.Fatalf("Deployment %s has %d containers", deploy.GetName(), len(cs))
	}
	return cs[0].(map[string]any)
}

// TestHelmChartMatchesInstall renders charts/kseal with the real helm and
// compares it with config/install.yaml: the same RBAC objects with the same
// rules and subjects (no more, no fewer), the same CRD, ServiceAccount and
// Service, and a Deployment that runs the same flags under the same
// security context. The chart's RBAC rules and CRD are copies make generate
// keeps; this test catches a chart that drifts by hand.
func TestHelmChartMatchesInstall(t *testing.T) {
	if out, err := exec.Command(tool(t, "KSEAL_HELM"), "lint", "--strict", chart).CombinedOutput(); err != nil {
		t.Fatalf("helm lint --strict: %v\n%s", err, out)
	}
	got := asInstallNames(t, helmTemplate(t))
	b, err := os.ReadFile(filepath.Join(root, "config", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := objects(t, "config/install.yaml", b)

	compare := map[string][][]string{
		"ClusterRole":              {{"rules"}},
		"Role":                     {{"rules"}},
		"ClusterRoleBinding":       {{"roleRef"}, {"subjects"}},
		"RoleBinding":              {{"roleRef"}, {"subjects"}},
		"ServiceAccount":           {},
		"Service":                  {{"spec"}},
		"CustomResourceDefinition": {{"spec"}},
		"Deployment": {
			{"spec", "replicas"}, {"spec", "selector"},
			{"spec", "template", "spec", "serviceAccountName"}, {"spec", "template", "spec", "securityContext"},
		},
	}
	for key, w := range want {
		paths, ok := compare[w.GetKind()]
		if !ok {
			continue // the Namespace: helm install --create-namespace
		}
		g := got[key]
		if g == nil {
			t.Errorf("the chart lacks %s", key)
			continue
		}
		for _, p := range paths {
			if a, b := field(t, g, p...), field(t, w, p...); !reflect.DeepEqual(a, b) {
				t.Errorf("%s %s: chart has %v, config/install.yaml has %v", key, strings.Join(p, "."), a, b)
			}
		}
	}
	for key, g := range got {
		if _, ok := compare[g.GetKind()]; ok && want[key] == nil {
			t.Errorf("the chart has %s, which config/install.yaml does not", key)
		}
	}
	deploy := "Deployment/" + controllerNS + "/" + controllerSA
	if got[deploy] == nil || want[deploy] == nil {
		t.Fatalf("no %s", deploy)
	}
	gc, wc := container(t, got[deploy]), container(t, want[deploy])
	for _, k := range []string{"args", "image", "ports", "livenessProbe", "readinessProbe", "resources", "securityContext"} {
		if !reflect.DeepEqual(gc[k], wc[k]) {
			t.Errorf("Deployment container %s: chart has %v, config/install.yaml has %v", k, gc[k], wc[k])
		}
	}

	t.Run("values add flags, a policy and KMS identity", func(t *testing.T) {
		got := helmTemplate(t, "--set", "extraArgs={--cluster-name=prod,--require-policy}", "--set", "logFormat=text",
			"--set", "policy=kind: Policy", "--set", "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/k")
		args := container(t, got[deploy])["args"]
		wantArgs := []any{"--namespace=" + controllerNS, "--leader-elect", "--log-format=text", "--cluster-name=prod", "--require-policy"}
		if !reflect.DeepEqual(args, wantArgs) {
			t.Errorf("args %v, want %v", args, wantArgs)
		}
		cm := got["ConfigMap/"+controllerNS+"/kseal-policy"]
		if cm == nil || field(t, cm, "data", "kseal.yaml") != "kind: Policy\n" {
			t.Errorf("policy ConfigMap %v", cm)
		}
		sa := got["ServiceAccount/"+controllerNS+"/"+controllerSA]
		if field(t, sa, "metadata", "annotations", "eks.amazonaws.com/role-arn") != "arn:aws:iam::1:role/k" {
			t.Errorf("ServiceAccount %v", sa.Object)
		}
	})
	t.Run("values set the leader election timings", func(t *testing.T) {
		got := helmTemplate(t, "--set", "leaderElection.leaseDuration=30s", "--set", "leaderElection.renewDeadline=20s", "--set", "leaderElection.retryPeriod=4s")
		args := container(t, got[deploy])["args"]
		wantArgs := []any{"--namespace=" + controllerNS, "--leader-elect", "--leader-elect-lease-duration=30s",
			"--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=4s", "--log-format=json"}
		if !reflect.DeepEqual(args, wantArgs) {
			t.Errorf("args %v, want %v", args, wantArgs)
		}
	})
	t.Run("values shard the controller", func(t *testing.T) {
		got := helmTemplate(t, "--set", "sharding.shards={shard1,shard2}")
		want := map[string]string{
			controllerSA:             "--watch-label-selector=!sharding.fluxcd.io/key",
			controllerSA + "-shard1": "--watch-label-selector=sharding.fluxcd.io/key in (shard1)",
			controllerSA + "-shard2": "--watch-label-selector=sharding.fluxcd.io/key in (shard2)",
		}
		var deploys []*unstructured.Unstructured
		for key, u := range got {
			if u.GetKind() == "Deployment" {
				deploys = append(deploys, u)
				if _, ok := want[u.GetName()]; !ok {
					t.Errorf("unexpected %s", key)
				}
			}
		}
		if len(deploys) != len(want) {
			t.Fatalf("%d Deployments, want %d", len(deploys), len(want))
		}
		for _, d := range deploys {
			var args []string
			for _, a := range container(t, d)["args"].([]any) {
				args = append(args, a.(string))
			}
			if !slices.Contains(args, want[d.GetName()]) {
				t.Errorf("Deployment %s args %q lack %q", d.GetName(), args, want[d.GetName()])
			}
			// The flags are the controller's and valid together.
			fs := flag.NewFlagSet("kseal-controller", flag.ContinueOnError)
			var o app.Options
			o.BindFlags(fs)
			if err := fs.Parse(args); err != nil {
				t.Errorf("Deployment %s: %v", d.GetName(), err)
			} else if err := o.Validate(); err != nil {
				t.Errorf("Deployment %s: %v", d.GetName(), err)
			}
			if sa := field(t, d, "spec", "template", "spec", "serviceAccountName"); sa != controllerSA {
				t.Errorf("Deployment %s runs as %v", d.GetName(), sa)
			}
			// No Deployment selects another's Pods.
			sel := field(t, d, "spec", "selector", "matchLabels").(map[string]any)
			for _, o := range deploys {
				podLabels := field(t, o, "spec", "template", "metadata", "labels").(map[string]any)
				matches := true
				for k, v := range sel {
					matches = matches && podLabels[k] == v
				}
				if matches != (o == d) {
					t.Errorf("Deployment %s selects the Pods of %s: %v", d.GetName(), o.GetName(), matches)
				}
			}
		}
	})
}

// TestChartCopiesUpToDate: the chart's CRD and RBAC rules are copies of
// config/'s generated files (make generate copies them).
func TestChartCopiesUpToDate(t *testing.T) {
	for chartFile, src := range map[string]string{
		filepath.Join(chart, "crds", "kseal.dev_sealedsecrets.yaml"): filepath.Join(root, "config", "crd", "bases", "kseal.dev_sealedsecrets.yaml"),
		filepath.Join(chart, "files", "role.yaml"):                   filepath.Join(root, "config", "rbac", "role.yaml"),
	} {
		a, err1 := os.ReadFile(chartFile)
		b, err2 := os.ReadFile(src)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s is stale (%v %v): run make generate", chartFile, err1, err2)
		}
	}
}

// TestHelmInstall installs the chart with the real helm into an empty API
// server (the chart brings the CRD), with a policy and a flag from values,
// and runs the controller with the flags of the Deployment helm created, as
// the ServiceAccount helm created, with the RBAC helm created. It unseals,
// grants the policy's reader (a Role and RoleBinding made under that RBAC)
// and is refused nothing.
func TestHelmInstall(t *testing.T) {
	r := helmInstallAndUnseal(t, "")
	r.must(nil, "kubectl", "get", "clusterrolebinding", chartClusterName)
}

// TestHelmInstallWatchNamespaces: with watchNamespaces the chart binds the
// controller's rules only where it works, and it still unseals there with
// no refusal, while it may not touch Secrets in any other namespace.
func TestHelmInstallWatchNamespaces(t *testing.T) {
	r := helmInstallAndUnseal(t, "watchNamespaces: [web]\n")
	if _, err := r.run(nil, "kubectl", "get", "clusterrolebinding", chartClusterName); err == nil {
		t.Error("a ClusterRoleBinding exists although watchNamespaces is set")
	}
	sa := "system:serviceaccount:" + controllerNS + ":" + controllerSA
	for _, c := range []struct{ args, want string }{
		{"list secrets -n web", "yes"},
		{"create secrets -n web", "yes"},
		{"get secrets -n " + controllerNS, "yes"},
		{"list secrets -n default", "no"},
		{"get secrets -n kube-system", "no"},
		{"list secrets --all-namespaces", "no"},
	} {
		out, _ := r.run(nil, "kubectl", append([]string{"auth", "can-i", "--as", sa}, strings.Fields(c.args)...)...)
		if strings.TrimSpace(out) != c.want {
			t.Errorf("can-i %s: %q, want %s", c.args, strings.TrimSpace(out), c.want)
		}
	}
}

// helmInstallAndUnseal installs the chart with extra values into a new API
// server, runs the controller as helm's Deployment and RBAC say, and checks
// it unseals into namespace web and grants the policy's reader.
func helmInstallAndUnseal(t *testing.T, extraValues string) *runner {
	t.Helper()
	envtestutil.Require(t, cluster)
	helm := tool(t, "KSEAL_HELM")
	env := &envtest.Environment{BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS")}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	r := &runner{t: t, kubeconfig: kubeconfig(t, env), dir: t.TempDir()}
	values := `extraArgs: ["--cluster-name=test"]
policy: |
  apiVersion: kseal.dev/v1alpha1
  kind: Policy
  clusters:
    test: {recipientsFile: test.pub}
  keys:
    cluster: {cluster: test}
  services:
    web: {namespaces: [web], serviceAccounts: [web-reader], keys: [cluster]}
` + extraValues
	if err := os.WriteFile(filepath.Join(r.dir, "values.yaml"), []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	r.must(nil, "kubectl", "create", "namespace", "web")
	r.must(nil, helm, "install", "kseal", chart, "--namespace", controllerNS, "--create-namespace", "--values", "values.yaml")
	r.must(nil, "kubectl", "get", "crd", "sealedsecrets.kseal.dev")

	var args []string
	out := r.must(nil, "kubectl", "-n", controllerNS, "get", "deployment", controllerSA, "-o", "jsonpath={.spec.template.spec.containers[0].args}")
	if err := json.Unmarshal([]byte(out), &args); err != nil {
		t.Fatalf("Deployment args %q: %v", out, err)
	}
	r.asServiceAccount(env)
	ctrl := r.startController(args...) // the Deployment's flags come last and win
	t.Cleanup(func() { ctrl.stop(); noForbidden(t, ctrl.log.String()) })

	r.sealClusterSecret("Secret unsealed under the chart's RBAC",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: web}\nstringData: {password: helm-installed}\n",
		"web", "db", "password", "helm-installed")
	poll(t, "the policy's reader may get the Secret", func() error {
		out, _ := r.run(nil, "kubectl", "-n", "web", "auth", "can-i", "get", "secret/db", "--as", "system:serviceaccount:web:web-reader")
		if strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("can-i: %q", out)
		}
		return nil
	})
	if out, _ := r.run(nil, "kubectl", "-n", "web", "auth", "can-i", "get", "secret/other", "--as", "system:serviceaccount:web:web-reader"); strings.TrimSpace(out) != "no" {
		t.Errorf("the reader may get other Secrets: %q", out)
	}
	poll(t, "Ready condition", func() error {
		out := r.must(nil, "kubectl", "-n", "web", "get", "sealedsecret", "db", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}")
		if out != "Unsealed" {
			return fmt.Errorf("reason %q", out)
		}
		return nil
	})
	return r
}

// TestHelmVaultValues: the chart's vault values become the controller's
// Vault flags (flags kseal-controller parses) and mount the CA from a
// Secret or a ConfigMap; with the same settings the chart renders what the
// kustomize component config/vault adds to config/default. No vault values:
// no Vault flags, no volume (TestHelmChartMatchesInstall).
func TestHelmVaultValues(t *testing.T) {
	const addr = "https://vault.example.com:8200"
	got := helmTemplate(t, "--set", "vault.addr="+addr, "--set", "vault.authRole=kseal-controller",
		"--set", "vault.caCert.configMapName=kseal-vault-ca")
	deploy := "Deployment/" + controllerNS + "/" + controllerSA
	gc := container(t, got[deploy])
	vaultArgs := []any{"--vault-addr=" + addr, "--vault-auth-role=kseal-controller", "--vault-ca-cert=/etc/kseal/vault-ca/ca.crt"}
	if want := append([]any{"--namespace=" + controllerNS, "--leader-elect", "--log-format=json"}, vaultArgs...); !reflect.DeepEqual(gc["args"], want) {
		t.Errorf("args %v, want %v", gc["args"], want)
	}
	fs := flag.NewFlagSet("kseal-controller", flag.ContinueOnError)
	keys.BindControllerFlags(fs)
	var args []string
	for _, a := range gc["args"].([]any)[3:] {
		args = append(args, a.(string))
	}
	if err := fs.Parse(args); err != nil {
		t.Errorf("kseal-controller does not take the chart's Vault flags: %v", err)
	}

	// The kustomize component, applied to config/default.
	overlay := t.TempDir()
	rel := func(dir string) string { // kustomize takes no absolute roots
		r, err := filepath.Rel(overlay, filepath.Join(root, "config", dir))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	k := fmt.Sprintf("resources: [%s]\ncomponents: [%s]\n", rel("default"), rel("vault"))
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool(t, "KSEAL_KUSTOMIZE"), "build", "--load-restrictor=LoadRestrictionsNone", overlay).Output()
	if err != nil {
		t.Fatalf("kustomize build config/vault: %v", err)
	}
	want := objects(t, "config/default + config/vault", out)
	wc := container(t, want[deploy])
	if !reflect.DeepEqual(gc["args"], wc["args"]) || !reflect.DeepEqual(gc["volumeMounts"], wc["volumeMounts"]) {
		t.Errorf("container: chart has %v %v, config/vault has %v %v", gc["args"], gc["volumeMounts"], wc["args"], wc["volumeMounts"])
	}
	if a, b := field(t, got[deploy], "spec", "template", "spec", "volumes"), field(t, want[deploy], "spec", "template", "spec", "volumes"); !reflect.DeepEqual(a, b) {
		t.Errorf("volumes: chart has %v, config/vault has %v", a, b)
	}

	// A Secret instead, the other flags and the namespace.
	got = helmTemplate(t, "--set", "vault.caCert.secretName=vault-tls", "--set", "vault.caCert.key=ca.pem",
		"--set", "vault.authMount=k8s-prod", "--set", "vault.tokenAudience=vault-prod", "--set", "vault.namespace=team-a")
	gc = container(t, got[deploy])
	if want := []any{"--namespace=" + controllerNS, "--leader-elect", "--log-format=json", "--vault-auth-mount=k8s-prod",
		"--vault-token-audience=vault-prod", "--vault-ca-cert=/etc/kseal/vault-ca/ca.pem"}; !reflect.DeepEqual(gc["args"], want) {
		t.Errorf("args %v, want %v", gc["args"], want)
	}
	if env := fmt.Sprint(gc["env"]); env != "[map[name:VAULT_NAMESPACE value:team-a]]" {
		t.Errorf("env %s", env)
	}
	vols := fmt.Sprint(field(t, got[deploy], "spec", "template", "spec", "volumes"))
	if vols != "[map[name:vault-ca secret:map[items:[map[key:ca.pem path:ca.pem]] secretName:vault-tls]]]" {
		t.Errorf("volumes %s", vols)
	}
	if out, err := exec.Command(tool(t, "KSEAL_HELM"), "template", "kseal", chart, "--set", "vault.caCert.secretName=a",
		"--set", "vault.caCert.configMapName=b").CombinedOutput(); err == nil || !strings.Contains(string(out), "secretName or configMapName, not both") {
		t.Errorf("both a Secret and a ConfigMap: %v %s", err, out)
	}
}

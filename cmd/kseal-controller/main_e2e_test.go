package main_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"kseal.dev/kseal/internal/envtestutil"
)

// TestEndToEnd installs kseal with kubectl, runs the built controller
// against the API server as the kseal-controller ServiceAccount with only
// the RBAC config/install.yaml grants (its log must show no refusal), seals an example with the fetched cluster
// recipient using the built kseal, applies it with kubectl and checks the
// Secret's bytes.
func TestEndToEnd(t *testing.T) {
	envtestutil.Require(t, cluster)
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	r.must(nil, "kubectl", "create", "namespace", "demo")
	r.asServiceAccount(cluster)
	ctrl := r.startController("--leader-elect")
	defer func() { ctrl.stop(); noForbidden(t, ctrl.log.String()) }()

	var pub string
	poll(t, "cluster recipient via the API server", func() (err error) {
		pub, err = r.run(nil, "kseal", "fetch-recipients")
		return err
	})
	if !strings.Contains(pub, "age1pq1") {
		t.Fatalf("cluster recipient is not post-quantum: %q", pub)
	}
	// The ConfigMap may be there before this controller listens (another
	// test's controller wrote it on the same API server), so wait for the
	// endpoint too.
	var direct string
	poll(t, "cluster recipient from /v1/recipients", func() (err error) {
		direct, err = r.run(nil, "kseal", "fetch-recipients", "--url", "http://"+ctrl.recipients)
		return err
	})
	if !strings.Contains(pub, strings.TrimSpace(direct)) {
		t.Errorf("/v1/recipients %q differs from the ConfigMap %q", direct, pub)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "cluster.pub"), []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}

	sealed := r.must(nil, "kseal", "seal", "--recipients-file", "cluster.pub", "-f", filepath.Join(root, "examples", "db-secret.yaml"))
	r.must([]byte(sealed), "kubectl", "apply", "-f", "-")
	waitForDemoPassword(t, r, "unsealed Secret")
	typ := r.must(nil, "kubectl", "-n", "demo", "get", "secret", "db-credentials", "-o", "jsonpath={.type}")
	if typ != "kubernetes.io/basic-auth" {
		t.Errorf("type %q", typ)
	}
	poll(t, "Ready column", func() error {
		out := r.must(nil, "kubectl", "-n", "demo", "get", "sealedsecret", "db-credentials")
		if !strings.Contains(out, "True") || !strings.Contains(out, "Unsealed") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	metrics, err := httpGet(t.Context(), "http://"+ctrl.metrics+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"kseal_unseal_total 1", "kseal_cluster_keys 1", "kseal_reconcile_duration_seconds_bucket"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %q", m)
		}
	}
	if strings.Contains(ctrl.log.String(), "correct-horse") || strings.Contains(ctrl.log.String(), "AGE-SECRET-KEY") {
		t.Error("controller log contains plaintext or a private key")
	}

	t.Run("backup and restore into an empty cluster", func(t *testing.T) {
		offline := r.must(nil, "kseal", "keygen", "-o", "offline.key")
		backup := r.must(nil, "kseal", "keys", "backup", "-r", strings.TrimSpace(offline))
		if strings.Contains(backup, "AGE-SECRET-KEY") {
			t.Fatal("backup holds a private key in the clear")
		}
		if err := os.WriteFile(filepath.Join(r.dir, "backup.yaml"), []byte(backup), 0o600); err != nil {
			t.Fatal(err)
		}
		// -o json: the same backup as JSON that kseal reads back.
		asJSON := r.must(nil, "kseal", "keys", "backup", "-r", strings.TrimSpace(offline), "-o", "json")
		if !json.Valid([]byte(asJSON)) {
			t.Fatalf("keys backup -o json is not JSON:\n%.300s", asJSON)
		}
		if err := os.WriteFile(filepath.Join(r.dir, "backup.json"), []byte(asJSON), 0o600); err != nil {
			t.Fatal(err)
		}
		r.must(nil, "kseal", "verify", "--identity", "offline.key", "backup.json")

		empty := &envtest.Environment{BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS")}
		if _, err := empty.Start(); err != nil {
			t.Fatal(err)
		}
		defer empty.Stop()
		r2 := &runner{t: t, kubeconfig: kubeconfig(t, empty), dir: r.dir}
		r2.must(nil, "kubectl", "apply", "-f", filepath.Join(envtestutil.RepoRoot(), "config", "install.yaml"))
		r2.must(nil, "kubectl", "create", "namespace", "demo")
		// The documented restore: checked against the recipients the
		// team seals to, and created (an apply would keep the private key
		// in its last-applied annotation).
		plain := r2.must(nil, "kseal", "keys", "restore", "--identity", "offline.key", "--recipients-file", "cluster.pub", "backup.yaml")
		r2.must([]byte(plain), "kubectl", "create", "-f", "-")
		r2.must([]byte(sealed), "kubectl", "apply", "-f", "-")
		r2.asServiceAccount(empty)
		ctrl2 := r2.startController()
		defer func() { ctrl2.stop(); noForbidden(t, ctrl2.log.String()) }()
		poll(t, "Secret unsealed in the restored cluster", func() error {
			out, err := r2.run(nil, "kubectl", "-n", "demo", "get", "secret", "db-credentials", "-o", "jsonpath={.data.username}")
			if err != nil {
				return err
			}
			if b, _ := base64.StdEncoding.DecodeString(out); string(b) != "orders" {
				return fmt.Errorf("username %q", b)
			}
			return nil
		})
		if got := r2.must(nil, "kseal", "fetch-recipients"); got != pub {
			t.Errorf("restored cluster publishes %q, want the original %q", got, pub)
		}
		// A backup of the restored cluster holds no private key in clear.
		again := r2.must(nil, "kseal", "keys", "backup", "-r", strings.TrimSpace(offline))
		if strings.Contains(again, "AGE-SECRET-KEY") || strings.Contains(again, "last-applied") {
			t.Errorf("a backup after the restore holds the key or a last-applied copy:\n%s", again)
		}
	})

	t.Run("deleting the SealedSecret deletes its Secret", func(t *testing.T) {
		// The garbage collector of a real kube-controller-manager follows
		// the owner reference the controller set.
		kcm := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kube-controller-manager"),
			"--kubeconfig="+r.kubeconfig, "--controllers=garbagecollector", "--leader-elect=false",
			"--bind-address=127.0.0.1", "--secure-port="+strings.Split(freeAddr(t), ":")[1])
		var klog strings.Builder
		kcm.Stdout, kcm.Stderr = &klog, &klog
		if err := kcm.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = kcm.Process.Kill(); _ = kcm.Wait() }()
		r.must(nil, "kubectl", "-n", "demo", "delete", "sealedsecret", "db-credentials")
		poll(t, "the Secret to be garbage-collected", func() error {
			out, err := r.run(nil, "kubectl", "-n", "demo", "get", "secrets", "-o", "name")
			if err != nil {
				return err
			}
			if strings.Contains(out, "db-credentials") {
				return fmt.Errorf("still there: %s", out)
			}
			return nil
		})
	})
}

// tool returns the path hack/tools.sh exported in env (envtestutil.Tool).
func tool(t *testing.T, env string) string { return envtestutil.Tool(t, env) }

// TestGeneratedManifestsUpToDate runs controller-gen on the markers and
// compares with the committed deepcopy code, and the CRD and RBAC that
// users install.
func TestGeneratedManifestsUpToDate(t *testing.T) {
	cg := tool(t, "KSEAL_CONTROLLER_GEN")
	out := t.TempDir()
	for _, args := range [][]string{
		{"object:headerFile=hack/boilerplate.go.txt", "paths=./api/...", "output:object:dir=" + filepath.Join(out, "object")},
		{"crd:maxDescLen=400", "paths=./api/...", "output:crd:artifacts:config=" + filepath.Join(out, "crd")},
		{"rbac:roleName=kseal-controller", "paths=./internal/controller/...", "output:rbac:artifacts:config=" + filepath.Join(out, "rbac")},
	} {
		cmd := exec.Command(cg, args...)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen %v: %v\n%s", args, err, b)
		}
	}
	for gen, committed := range map[string]string{
		filepath.Join(out, "object", "zz_generated.deepcopy.go"):  filepath.Join(root, "api", "v1alpha1", "zz_generated.deepcopy.go"),
		filepath.Join(out, "crd", "kseal.dev_sealedsecrets.yaml"): filepath.Join(root, "config", "crd", "bases", "kseal.dev_sealedsecrets.yaml"),
		filepath.Join(out, "rbac", "role.yaml"):                   filepath.Join(root, "config", "rbac", "role.yaml"),
	} {
		a, err1 := os.ReadFile(gen)
		b, err2 := os.ReadFile(committed)
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("%s is stale (%v %v): run make generate", committed, err1, err2)
		}
	}
}

// TestInstallManifestsUpToDate rebuilds config/install.yaml with the real
// kustomize and compares: the committed install file is what users apply.
func TestInstallManifestsUpToDate(t *testing.T) {
	kustomize := tool(t, "KSEAL_KUSTOMIZE")
	out, err := exec.Command(kustomize, "build", filepath.Join(root, "config", "default")).Output()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(root, "config", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Fatal("config/install.yaml is stale: run make generate")
	}
}

// TestCIDecryptAndApply is the CI path without the controller: an encrypted
// Secret in git, `kseal decrypt | kubectl apply -f -` with the CI key.
func TestCIDecryptAndApply(t *testing.T) {
	envtestutil.Require(t, cluster)
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	r.must(nil, "kubectl", "create", "namespace", "ci")
	pub := strings.TrimSpace(r.must(nil, "kseal", "keygen", "-o", "ci.key"))
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: api, namespace: ci}\nstringData: {token: t0k3n}\n"
	if err := os.WriteFile(filepath.Join(r.dir, "api.yaml"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	r.must(nil, "kseal", "encrypt", "-r", pub, "-i", "api.yaml")
	plain := r.must(nil, "kseal", "decrypt", "--identity", "ci.key", "api.yaml")
	r.must([]byte(plain), "kubectl", "apply", "-f", "-")
	out := r.must(nil, "kubectl", "-n", "ci", "get", "secret", "api", "-o", "jsonpath={.data.token}")
	if b, _ := base64.StdEncoding.DecodeString(out); string(b) != "t0k3n" {
		t.Fatalf("token %q", b)
	}
	if a := r.must(nil, "kubectl", "-n", "ci", "get", "secret", "api", "-o", "jsonpath={.metadata.annotations}"); strings.Contains(a, "kseal.dev/envelope") {
		t.Errorf("the envelope annotation reached the cluster: %s", a)
	}
}

// waitForDemoPassword polls until the example's Secret demo/db-credentials
// holds the example's password.
func waitForDemoPassword(t *testing.T, r *runner, what string) {
	t.Helper()
	poll(t, what, func() error {
		out, err := r.run(nil, "kubectl", "-n", "demo", "get", "secret", "db-credentials", "-o", "jsonpath={.data.password}")
		if err != nil {
			return err
		}
		if b, _ := base64.StdEncoding.DecodeString(out); string(b) != "correct-horse-battery-staple" {
			return fmt.Errorf("password is %q", b)
		}
		return nil
	})
}

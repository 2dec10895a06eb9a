package main_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/envtestutil"
	"kseal.dev/kseal/internal/kmstest"
)

// The cut-over of docs/migrate.md, with the peers' real binaries: a Secret
// that the real sealed-secrets controller (or a CI pipeline running sops)
// wrote is handed to kseal-controller without ever disappearing — its UID
// never changes — and neither the old controller nor the garbage collector
// removes it once the old object is gone.

const migrateSecret = `apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: migrate
  labels:
    app: orders
  annotations:
    team: payments
type: kubernetes.io/basic-auth
stringData:
  username: orders
  password: correct-horse-battery-staple
`

// sealedSecretsController runs the real sealed-secrets controller v0.27.1.
// It reads only in-cluster configuration, so it runs as in a Pod: a
// ServiceAccount token, the CA and its namespace under
// /var/run/secrets/kubernetes.io/serviceaccount (a private tmpfs over /run
// in a mount namespace of its own: nothing on the host changes) and
// KUBERNETES_SERVICE_HOST/PORT.
func (r *runner) sealedSecretsController(ctrlBin string) (*syncBuffer, func()) {
	t := r.t
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("running the sealed-secrets controller as a Pod needs root and unshare, missing under CI=true")
		}
		t.Skip("running the sealed-secrets controller as a Pod needs root and unshare")
	}
	_, _ = r.run(nil, "kubectl", "-n", "kube-system", "create", "serviceaccount", "sealed-secrets-controller")
	_, _ = r.run(nil, "kubectl", "create", "clusterrolebinding", "sealed-secrets-controller", "--clusterrole=cluster-admin", "--serviceaccount=kube-system:sealed-secrets-controller")
	token := r.must(nil, "kubectl", "-n", "kube-system", "create", "token", "sealed-secrets-controller", "--duration=2h")
	sa := filepath.Join(r.dir, "sa")
	if err := os.MkdirAll(sa, 0o700); err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{"token": []byte(strings.TrimSpace(token)), "ca.crt": cluster.Config.CAData, "namespace": []byte("kube-system")} {
		if err := os.WriteFile(filepath.Join(sa, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	host := strings.TrimPrefix(cluster.Config.Host, "https://")
	h, port, _ := strings.Cut(host, ":")
	script := `mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$SA"/* /run/secrets/kubernetes.io/serviceaccount/ && exec "$CTRL" "$@"`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
		"--key-size=2048", "--listen-addr="+freeAddr(t), "--listen-metrics-addr="+freeAddr(t), "--log-info-stdout")
	cmd.Env = append(os.Environ(), "SA="+sa, "CTRL="+ctrlBin, "KUBERNETES_SERVICE_HOST="+h, "KUBERNETES_SERVICE_PORT="+port, "KUBECONFIG=")
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return log, stop
}

// gc runs the garbage collector of a real kube-controller-manager.
func (r *runner) gc() {
	kcm := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kube-controller-manager"),
		"--kubeconfig="+r.kubeconfig, "--controllers=garbagecollector", "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port="+strings.Split(freeAddr(r.t), ":")[1])
	var klog bytes.Buffer
	kcm.Stdout, kcm.Stderr = &klog, &klog
	if err := kcm.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = kcm.Process.Kill(); _ = kcm.Wait() })
}

// sh runs a shell script the way an operator would, kubectl on PATH.
func (r *runner) sh(script string) {
	r.t.Helper()
	cmd := exec.Command("sh", script)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.kubeconfig, "PATH="+os.Getenv("KUBEBUILDER_ASSETS")+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("sh %s: %v\n%s", script, err, out)
	}
}

// shRefused runs a shell script that must fail, and returns its output.
func (r *runner) shRefused(script string) string {
	r.t.Helper()
	cmd := exec.Command("sh", script)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.kubeconfig, "PATH="+os.Getenv("KUBEBUILDER_ASSETS")+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		r.t.Fatalf("sh %s succeeded, want it refused:\n%s", script, out)
	}
	return string(out)
}

// victim creates Secret name in namespace migrate that a Deployment owns
// (its controller): not the Secret an import from the old tool assumes.
func (r *runner) victim(name string) {
	r.t.Helper()
	r.must(nil, "kubectl", "-n", "migrate", "create", "deployment", name+"-owner", "--image=registry.invalid/none")
	uid := r.must(nil, "kubectl", "-n", "migrate", "get", "deployment", name+"-owner", "-o", "jsonpath={.metadata.uid}")
	r.write(name+".owned.yaml", fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: migrate
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: %s-owner, uid: %s, controller: true}
stringData: {token: owned-by-the-deployment}
`, name, name, uid))
	r.must(nil, "kubectl", "create", "-f", name+".owned.yaml")
}

// secretsSnapshot is name, resourceVersion and owners of every Secret in
// namespace migrate.
func (r *runner) secretsSnapshot() string {
	r.t.Helper()
	return r.must(nil, "kubectl", "-n", "migrate", "get", "secrets", "-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.resourceVersion} {.metadata.ownerReferences} {.metadata.annotations}{"\n"}{end}`)
}

func (r *runner) write(name, text string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, name), []byte(text), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

func (r *runner) secretField(name, jsonpath string) (string, error) {
	return r.run(nil, "kubectl", "-n", "migrate", "get", "secret", name, "-o", "jsonpath="+jsonpath)
}

// checkKsealOwns waits until kseal-controller controls Secret name with the
// original values, type and labels, and the UID it had before.
func (r *runner) checkKsealOwns(name, uid string) {
	r.t.Helper()
	poll(r.t, "kseal-controller to adopt Secret "+name, func() error {
		owner, err := r.secretField(name, `{.metadata.ownerReferences[?(@.controller==true)].apiVersion}`)
		if err != nil {
			return err
		}
		if owner != "kseal.dev/v1alpha1" {
			status, _ := r.run(nil, "kubectl", "-n", "migrate", "get", "sealedsecrets.kseal.dev", name, "-o", "jsonpath={.status.conditions}")
			return fmt.Errorf("controlled by %q; kseal SealedSecret status %s", owner, status)
		}
		return nil
	})
	for path, want := range map[string]string{
		"{.metadata.uid}":              uid,
		"{.type}":                      "kubernetes.io/basic-auth",
		"{.metadata.labels.app}":       "orders",
		"{.metadata.annotations.team}": "payments",
		"{.data.password}":             base64.StdEncoding.EncodeToString([]byte("correct-horse-battery-staple")),
		"{.data.username}":             base64.StdEncoding.EncodeToString([]byte("orders")),
	} {
		if got, err := r.secretField(name, path); err != nil || got != want {
			r.t.Errorf("Secret %s %s = %q (%v), want %q", name, path, got, err, want)
		}
	}
	if a, _ := r.secretField(name, "{.metadata.annotations}"); strings.Contains(a, "last-applied") || strings.Contains(a, "sealedsecrets.bitnami.com") || strings.Contains(a, "kseal.dev/adopt") {
		r.t.Errorf("Secret %s keeps annotations of its former manager or the consent: %s", name, a)
	}
}

func TestCutOverFromSealedSecrets(t *testing.T) {
	envtestutil.Require(t, cluster)
	ctrlBin := tool(t, "KSEAL_SEALED_SECRETS_CONTROLLER")
	kubeseal := tool(t, "KSEAL_KUBESEAL")
	tool(t, "KSEAL_KUBECTL") // what kseal import --check-server runs
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	crd := filepath.Join(strings.TrimSpace(string(modcache)), "github.com", "bitnami-labs", "sealed-secrets@v0.27.1", "helm", "sealed-secrets", "crds", "bitnami.com_sealedsecrets.yaml")
	if _, err := os.Stat(crd); err != nil {
		t.Fatalf("the sealed-secrets CRD comes with the module hack/tools.sh installs kubeseal from: %v", err)
	}
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	r.must(nil, "kubectl", "apply", "-f", crd)
	r.must(nil, "kubectl", "create", "namespace", "migrate")
	bitnamiLog, stopBitnami := r.sealedSecretsController(ctrlBin)

	// The team's starting point: SealedSecrets the real kubeseal sealed to
	// the real controller's key, unsealed by that controller.
	var keys string
	poll(t, "the sealed-secrets controller's key", func() (err error) {
		keys, err = r.run(nil, "kubectl", "get", "secret", "-n", "kube-system", "-l", "sealedsecrets.bitnami.com/sealed-secrets-key", "-o", "yaml")
		if err == nil && !strings.Contains(keys, "tls.key") {
			err = fmt.Errorf("no key yet; controller log:\n%s", bitnamiLog)
		}
		return err
	})
	r.write("keys.yaml", keys)
	crt := r.must(nil, "kubectl", "get", "secret", "-n", "kube-system", "-l", "sealedsecrets.bitnami.com/sealed-secrets-key", "-o", "jsonpath={.items[0].data.tls\\.crt}")
	pem, _ := base64.StdEncoding.DecodeString(crt)
	r.write("cert.pem", string(pem))
	uids := map[string]string{}
	for _, name := range []string{"db", "canary"} {
		text := fmt.Sprintf(migrateSecret, name)
		if name == "db" {
			// A typed template field: kubeseal keeps it a boolean, and so
			// must the import (the string "true" is refused).
			text += "immutable: true\n"
		}
		r.write(name+".secret.yaml", text)
		r.must(nil, kubeseal, "--cert", "cert.pem", "-o", "yaml", "-f", name+".secret.yaml", "-w", name+".yaml")
		r.must(nil, "kubectl", "apply", "-f", name+".yaml")
		poll(t, "the sealed-secrets controller to unseal "+name, func() error {
			owner, err := r.secretField(name, `{.metadata.ownerReferences[0].apiVersion}/{.metadata.uid}`)
			if err != nil || !strings.HasPrefix(owner, "bitnami.com/v1alpha1/") {
				return fmt.Errorf("owner %q %v; controller log:\n%s", owner, err, bitnamiLog)
			}
			uids[name] = strings.TrimPrefix(owner, "bitnami.com/v1alpha1/")
			return nil
		})
	}

	// The repository moves: the import, to the cluster's published key.
	r.startController()
	var pub string
	poll(t, "cluster recipient", func() (err error) { pub, err = r.run(nil, "kseal", "fetch-recipients"); return err })
	r.write("cluster.pub", pub)

	// The bitnami certificate is public: anyone can seal a SealedSecret
	// naming a Secret that something else owns. The adopt script refuses
	// it and changes nothing, not even the Secrets it would adopt.
	r.victim("victim")
	if err := os.Mkdir(filepath.Join(r.dir, "attack"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.write("victim.secret.yaml", fmt.Sprintf(migrateSecret, "victim"))
	r.must(nil, kubeseal, "--cert", "cert.pem", "-o", "yaml", "-f", "victim.secret.yaml", "-w", filepath.Join("attack", "victim.yaml"))
	dbYAML, err := os.ReadFile(filepath.Join(r.dir, "db.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r.write(filepath.Join("attack", "db.yaml"), string(dbYAML))
	r.must(nil, "kseal", "import", "sealed-secrets", "--keys", "keys.yaml", "--recipients-file", "cluster.pub", "--emit-adopt", "attack.sh", "-R", "-i", "attack")
	before := r.secretsSnapshot()
	out := r.shRefused("attack.sh")
	for _, want := range []string{"refused Secret migrate/victim: owned by 'apps/v1/Deployment/victim-owner/true;', the import expected 'bitnami.com/v1alpha1/SealedSecret/victim/true;'", "1 Secret(s) refused; nothing changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("attack.sh output lacks %q:\n%s", want, out)
		}
	}
	if after := r.secretsSnapshot(); after != before {
		t.Errorf("a refused adopt script changed Secrets:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// --check-server: an object the API server would refuse (its namespace
	// does not exist) stops the import, and no adopt script is written.
	r.write("gone.secret.yaml", strings.Replace(fmt.Sprintf(migrateSecret, "gone"), "namespace: migrate", "namespace: gone", 1))
	r.must(nil, kubeseal, "--cert", "cert.pem", "-o", "yaml", "-f", "gone.secret.yaml", "-w", "gone.yaml")
	if _, err := r.run(nil, "kseal", "import", "sealed-secrets", "--keys", "keys.yaml", "--recipients-file", "cluster.pub", "--check-server", "--emit-adopt", "gone.sh", "-i", "gone.yaml"); err == nil || !strings.Contains(err.Error(), `namespaces "gone" not found`) {
		t.Errorf("import --check-server of an object in a missing namespace: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "gone.sh")); !os.IsNotExist(err) {
		t.Errorf("an adopt script was written for an object the server refuses (%v)", err)
	}

	r.must(nil, "kseal", "import", "sealed-secrets", "--keys", "keys.yaml", "--recipients-file", "cluster.pub", "--check-server", "--emit-adopt", "adopt.sh", "-i", "db.yaml")

	// The cluster moves: hand over first, then apply, then delete the old.
	r.sh("adopt.sh")
	r.must(nil, "kubectl", "apply", "-f", "db.yaml")
	r.checkKsealOwns("db", uids["db"])
	if got, err := r.secretField("db", "{.immutable}"); err != nil || got != "true" {
		t.Errorf("Secret db immutable = %q (%v), want true", got, err)
	}
	// Beside the bitnami CRD, kseal's short names and category list kseal's
	// objects only, whichever group the plural resolves to.
	for _, name := range []string{"kss", "ksealed", "kseal"} {
		out := r.must(nil, "kubectl", "-n", "migrate", "get", name, "-o", "name")
		if !strings.Contains(out, "sealedsecret.kseal.dev/db") || strings.Contains(out, "bitnami") {
			t.Errorf("kubectl get %s lists %q, want kseal's SealedSecret db only", name, out)
		}
	}

	// The old controller restarts and unseals every SealedSecret again: it
	// finds the Secret no longer its own and leaves it alone.
	stopBitnami()
	bitnamiLog, _ = r.sealedSecretsController(ctrlBin)
	poll(t, "the sealed-secrets controller to refuse the handed-over Secret", func() error {
		out, err := r.run(nil, "kubectl", "-n", "migrate", "get", "sealedsecrets.bitnami.com", "db", "-o", "jsonpath={.status.conditions[0].message}")
		if err != nil || !strings.Contains(out, "not managed by SealedSecret") {
			return fmt.Errorf("status %q (%v); log:\n%s", out, err, bitnamiLog)
		}
		return nil
	})
	r.checkKsealOwns("db", uids["db"])

	r.gc()
	r.must(nil, "kubectl", "-n", "migrate", "delete", "sealedsecrets.bitnami.com", "db", "canary")
	// The canary, still owned by its bitnami SealedSecret, is collected:
	// the garbage collector has run over both.
	poll(t, "the garbage collector to delete the canary Secret", func() error {
		out, err := r.run(nil, "kubectl", "-n", "migrate", "get", "secrets", "-o", "name")
		if err != nil || strings.Contains(out, "secret/canary") {
			return fmt.Errorf("canary still there (%v)", err)
		}
		return nil
	})
	r.checkKsealOwns("db", uids["db"])
}

// TestCutOverFromSops: Secrets a CI pipeline applied with `sops -d | kubectl
// apply` — one file encrypted to age, one to AWS KMS (the protocol-level
// test server of internal/kmstest, reached by sops and by kseal through the
// real AWS SDK) — are converted and handed over in place.
func TestCutOverFromSops(t *testing.T) {
	envtestutil.Require(t, cluster)
	sops := tool(t, "KSEAL_SOPS")
	const arn = "arn:aws:kms:eu-west-1:111122223333:key/99999999-2222-3333-4444-555555555555"
	aws, err := kmstest.NewAWS(arn)
	if err != nil {
		t.Fatal(err)
	}
	defer aws.Close()
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	if _, err := r.run(nil, "kubectl", "get", "namespace", "migrate"); err != nil {
		r.must(nil, "kubectl", "create", "namespace", "migrate")
	}
	env := append(os.Environ(), "SOPS_AGE_KEY_FILE="+filepath.Join(r.dir, "sops.key"), "KSEAL_NO_PROGRESS=1")
	for k, v := range aws.Env() {
		env = append(env, k+"="+v)
	}
	run := func(stdin []byte, name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = r.dir, env
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if x, ok := err.(*exec.ExitError); ok {
				stderr = x.Stderr
			}
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
		}
		return out
	}
	age := strings.TrimSpace(r.must(nil, "kseal", "keygen", "--x25519", "-o", "sops.key"))
	if err := os.Mkdir(filepath.Join(r.dir, "k8s"), 0o755); err != nil {
		t.Fatal(err)
	}
	uids := map[string]string{}
	for name, key := range map[string][]string{"ci-db": {"--age", age}, "ci-api": {"--kms", arn}} {
		r.write(name+".secret.yaml", fmt.Sprintf(migrateSecret, name))
		args := append(append([]string{"-e"}, key...), "--encrypted-regex", "^(data|stringData)$", name+".secret.yaml")
		r.write(filepath.Join("k8s", name+".yaml"), string(run(nil, sops, args...)))
		// What the CI pipeline did until now.
		plain := run(nil, sops, "-d", filepath.Join("k8s", name+".yaml"))
		r.must(plain, "kubectl", "apply", "-f", "-")
		uids[name] = r.must(nil, "kubectl", "-n", "migrate", "get", "secret", name, "-o", "jsonpath={.metadata.uid}")
		if a := r.must(nil, "kubectl", "-n", "migrate", "get", "secret", name, "-o", "jsonpath={.metadata.annotations}"); !strings.Contains(a, "last-applied-configuration") {
			t.Fatalf("kubectl apply left no last-applied copy to clean up: %s", a)
		}
	}
	if aws.Calls("Decrypt") == 0 {
		t.Fatal("sops did not use the AWS KMS test server")
	}

	r.startController()
	var pub string
	poll(t, "cluster recipient", func() (err error) { pub, err = r.run(nil, "kseal", "fetch-recipients"); return err })
	r.write("cluster.pub", pub)

	// An attacker's sops file naming a Secret a Deployment owns, next to
	// a genuine one: the adopt script refuses and changes nothing.
	r.victim("ci-victim")
	if err := os.Mkdir(filepath.Join(r.dir, "attack"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.write("ci-victim.secret.yaml", fmt.Sprintf(migrateSecret, "ci-victim"))
	r.write(filepath.Join("attack", "ci-victim.yaml"), string(run(nil, sops, "-e", "--age", age, "--encrypted-regex", "^(data|stringData)$", "ci-victim.secret.yaml")))
	r.write(filepath.Join("attack", "ci-db.yaml"), string(run(nil, "cat", filepath.Join("k8s", "ci-db.yaml"))))
	// Owned by nothing, as a pipeline's Secret is, but not what any sops
	// file holds: one made by hand, and a Helm release record.
	for _, name := range []string{"ci-handmade", "sh.helm.release.v1.app.v1"} {
		typ := "Opaque"
		if strings.HasPrefix(name, "sh.helm") {
			typ = "helm.sh/release.v1"
		}
		r.must(nil, "kubectl", "-n", "migrate", "create", "secret", "generic", name, "--type="+typ, "--from-literal=release=the-real-one")
		r.write(name+".secret.yaml", strings.ReplaceAll(fmt.Sprintf(migrateSecret, name), "type: kubernetes.io/basic-auth", "type: "+typ))
		r.write(filepath.Join("attack", name+".yaml"), string(run(nil, sops, "-e", "--age", age, "--encrypted-regex", "^(data|stringData)$", name+".secret.yaml")))
	}
	run(nil, filepath.Join(bin, "kseal"), "import", "sops", "--recipients-file", "cluster.pub", "--emit-adopt", "attack.sh", "-R", "-i", "attack")
	before := r.secretsSnapshot()
	out := r.shRefused("attack.sh")
	for _, want := range []string{
		"refused Secret migrate/ci-victim: owned by 'apps/v1/Deployment/ci-victim-owner/true;', the import expected 'nothing'",
		"refused Secret migrate/ci-handmade: its data is not what the import decrypted",
		"refused Secret migrate/sh.helm.release.v1.app.v1: a Helm release record",
		"3 Secret(s) refused; nothing changed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("attack.sh output lacks %q:\n%s", want, out)
		}
	}
	if after := r.secretsSnapshot(); after != before {
		t.Errorf("a refused adopt script changed Secrets:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	run(nil, filepath.Join(bin, "kseal"), "import", "sops", "--recipients-file", "cluster.pub", "--emit-adopt", "adopt.sh", "-R", "-i", "k8s")
	// A Secret that changes between the script's check and its patch is
	// refused by the API server: the patch carries the UID and
	// resourceVersion the check saw.
	script, err := os.ReadFile(filepath.Join(r.dir, "adopt.sh"))
	if err != nil {
		t.Fatal(err)
	}
	const gate = `[ "$refused" = 0 ] ||`
	if !strings.Contains(string(script), gate) {
		t.Fatalf("adopt.sh has no %q line:\n%s", gate, script)
	}
	r.write("race.sh", strings.Replace(string(script), gate, "kubectl -n migrate annotate secret ci-db changed=meanwhile\n"+gate, 1))
	out = r.shRefused("race.sh")
	if !strings.Contains(out, "the object has been modified") {
		t.Errorf("race.sh: want a conflict from the API server:\n%s", out)
	}
	if a, _ := r.secretField("ci-db", "{.metadata.annotations}"); strings.Contains(a, "kseal.dev/adopt") {
		t.Errorf("a Secret that changed after the check was adopted: %s", a)
	}
	r.sh("adopt.sh")
	r.must(nil, "kubectl", "apply", "-f", "k8s")
	for name, uid := range uids {
		r.checkKsealOwns(name, uid)
	}
}

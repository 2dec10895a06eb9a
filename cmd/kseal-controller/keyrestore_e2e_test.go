package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"kseal.dev/kseal/internal/envtestutil"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// TestKeyRestoredByApplyLosesLastApplied: a cluster key Secret put back
// with `kubectl apply` (how keys were restored before) carries kubectl's
// last-applied annotation, a clear copy of the whole Secret, private key
// included, that every later `kubectl get -o yaml` or backup would carry.
// The built controller, running as the kseal-controller ServiceAccount
// with exactly the RBAC config/install.yaml grants, removes it, says so in
// its log naming the Secret (never the key), and unseals with the key.
//
// Guard: Keyring.dropLastApplied (TestKeySecretLosesLastApplied checks it
// without RBAC).
func TestKeyRestoredByApplyLosesLastApplied(t *testing.T) {
	envtestutil.Require(t, cluster)
	env := &envtest.Environment{BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS")}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	defer env.Stop()
	r := &runner{t: t, kubeconfig: kubeconfig(t, env), dir: t.TempDir()}
	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	r.must(nil, "kubectl", "create", "namespace", "demo")

	id, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	const name = "kseal-key-1700000000"
	key := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: kseal-system
  labels: {kseal.dev/managed: cluster-key}
  annotations: {kseal.dev/created: "2023-11-14T22:13:20Z"}
type: Opaque
stringData:
  identity: %s
  recipient: %s
`, name, id.SecretString(), id.Recipient())
	r.must([]byte(key), "kubectl", "apply", "-f", "-")
	annotations := func() string {
		return r.must(nil, "kubectl", "-n", "kseal-system", "get", "secret", name, "-o", "jsonpath={.metadata.annotations}")
	}
	if a := annotations(); !strings.Contains(a, "last-applied-configuration") || !strings.Contains(a, id.SecretString()) {
		t.Fatalf("kubectl apply left no clear copy of the key to remove: %.200s", a)
	}

	r.asServiceAccount(env)
	ctrl := r.startController()
	defer func() { ctrl.stop(); noForbidden(t, ctrl.log.String()) }()
	poll(t, "the last-applied annotation to be removed", func() error {
		if a := annotations(); strings.Contains(a, "last-applied-configuration") {
			return fmt.Errorf("still there")
		}
		return nil
	})
	poll(t, "the log to say so", func() error {
		if !strings.Contains(ctrl.log.String(), "removed the client-side apply annotation from a cluster key Secret") ||
			!strings.Contains(ctrl.log.String(), "kseal-system/"+name) {
			return fmt.Errorf("log: %s", ctrl.log.String())
		}
		return nil
	})

	// The key still opens what was sealed to it.
	if err := os.WriteFile(filepath.Join(r.dir, "restored.pub"), []byte(id.Recipient()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sealed := r.must(nil, "kseal", "seal", "--recipients-file", "restored.pub", "-f", filepath.Join(root, "examples", "db-secret.yaml"))
	r.must([]byte(sealed), "kubectl", "apply", "-f", "-")
	waitForDemoPassword(t, r, "unsealed with the restored key")
	if strings.Contains(ctrl.log.String(), id.SecretString()) || strings.Contains(ctrl.log.String(), "AGE-SECRET-KEY") {
		t.Error("the controller log holds the private key")
	}
}

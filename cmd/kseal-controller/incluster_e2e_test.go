package main_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/envtestutil"
)

// podMount mounts a tmpfs, in the private mount namespace unshare made,
// where a Pod finds its service-account files (over /var/run/secrets, or
// over /var/run when that does not exist here), copies the files from $1
// there and runs the rest of the arguments. Nothing outside that namespace
// sees the mount.
const podMount = `set -e
t=/var/run/secrets
[ -d "$t" ] || t=/var/run
mount -t tmpfs -o mode=0755 kseal-serviceaccount "$t"
d=/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p "$d"
cp "$1/token" "$1/ca.crt" "$1/namespace" "$d/"
shift
exec "$@"`

// unshareTool returns unshare when it can make a private mount namespace
// here; under CI=true its absence fails the test, elsewhere it skips.
func unshareTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("unshare")
	if err == nil {
		var out []byte
		if out, err = exec.Command(p, "-m", "true").CombinedOutput(); err != nil {
			err = fmt.Errorf("unshare -m: %v: %s", err, out)
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the in-cluster test needs a private mount namespace (root and unshare): %v", err)
		}
		t.Skipf("the in-cluster test needs a private mount namespace (root and unshare): %v", err)
	}
	return p
}

// TestInCluster starts the controller the way a Pod starts it: no
// kubeconfig anywhere, KUBERNETES_SERVICE_HOST and _PORT in the
// environment, and the ServiceAccount's token, the cluster CA and the
// namespace in /var/run/secrets/kubernetes.io/serviceaccount (a tmpfs in a
// private mount namespace). It must unseal, with no RBAC refusal.
func TestInCluster(t *testing.T) {
	envtestutil.Require(t, cluster)
	unshare := unshareTool(t)
	r := &runner{t: t, kubeconfig: kubeconfig(t, cluster), dir: t.TempDir()}
	r.must(nil, "kubectl", "apply", "-f", filepath.Join(root, "config", "install.yaml"))
	r.must(nil, "kubectl", "create", "namespace", "incluster")

	sa := t.TempDir()
	for name, b := range map[string][]byte{"token": []byte(r.saToken()), "ca.crt": cluster.Config.CAData, "namespace": []byte(controllerNS)} {
		if err := os.WriteFile(filepath.Join(sa, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(apiServer(cluster))
	if err != nil {
		t.Fatal(err)
	}
	p := &controllerProc{recipients: freeAddr(t), metrics: freeAddr(t), log: &syncBuffer{}}
	args := []string{"-m", "--propagation", "private", "sh", "-c", podMount, "sh", sa,
		filepath.Join(bin, "kseal-controller"), "--namespace=" + controllerNS, "--leader-elect", "--log-format=text",
		"--recipients-bind-address=" + p.recipients, "--metrics-bind-address=" + p.metrics, "--health-probe-bind-address=" + freeAddr(t)}
	p.cmd = exec.Command(unshare, args...)
	// A Pod's environment: no KUBECONFIG, and a HOME without ~/.kube.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "KUBERNETES_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, "HOME="+t.TempDir(), "KUBERNETES_SERVICE_HOST="+u.Hostname(), "KUBERNETES_SERVICE_PORT="+u.Port())
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	defer func() {
		p.stop() // before reading the log its process writes
		noForbidden(t, p.log.String())
		if t.Failed() {
			t.Logf("controller log:\n%s", p.log)
		}
	}()

	r.sealClusterSecret("Secret unsealed by the in-cluster controller",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: pod, namespace: incluster}\nstringData: {token: in-cluster-t0k3n}\n",
		"incluster", "pod", "token", "in-cluster-t0k3n")
	if _, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); err == nil {
		t.Error("the service-account mount leaked out of the private mount namespace")
	}
}

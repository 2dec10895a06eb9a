package main_test

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const (
	controllerNS = "kseal-system"
	controllerSA = "kseal-controller"
)

// saToken asks the TokenRequest API (through kubectl, as the admin) for a
// token of the kseal-controller ServiceAccount that config/ installs.
func (r *runner) saToken() string {
	r.t.Helper()
	return strings.TrimSpace(r.must(nil, "kubectl", "-n", controllerNS, "create", "token", controllerSA, "--duration=2h"))
}

// apiServer returns env's API server URL.
func apiServer(env *envtest.Environment) string {
	h := env.Config.Host
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	return h
}

// asServiceAccount makes the controller r starts run as the kseal-controller
// ServiceAccount, with exactly the RBAC config/ installs: a kubeconfig that
// holds only its token and the API server's CA. It returns that kubeconfig.
func (r *runner) asServiceAccount(env *envtest.Environment) string {
	r.t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: apiServer(env), CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos[controllerSA] = &clientcmdapi.AuthInfo{Token: r.saToken()}
	cfg.Contexts[controllerSA] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: controllerSA, Namespace: controllerNS}
	cfg.CurrentContext = controllerSA
	p := filepath.Join(r.t.TempDir(), "kubeconfig-"+controllerSA)
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		r.t.Fatal(err)
	}
	who := &runner{t: r.t, kubeconfig: p, dir: r.dir}
	if out := who.must(nil, "kubectl", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); out != "system:serviceaccount:"+controllerNS+":"+controllerSA {
		r.t.Fatalf("the controller's kubeconfig authenticates as %q", out)
	}
	r.controllerKubeconfig = p
	return p
}

// noForbidden fails when the controller's log shows the API server refused
// it anything: the RBAC config/ installs must cover every call it makes.
func noForbidden(t *testing.T, log string) {
	t.Helper()
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(strings.ToLower(l), "forbidden") {
			t.Errorf("the controller was refused by RBAC: %s", l)
		}
	}
}

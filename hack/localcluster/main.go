// Command localcluster runs a real kube-apiserver and etcd (the binaries
// hack/tools.sh builds) with the kseal CRD, writes an admin kubeconfig, and
// stops them on SIGINT/SIGTERM. `make demo` and the benchmarks use it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func main() {
	kubeconfig := flag.String("out", "", "where to write the admin kubeconfig")
	flag.Parse()
	if err := run(*kubeconfig); err != nil {
		fmt.Fprintf(os.Stderr, "localcluster: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig string) error {
	if kubeconfig == "" {
		return fmt.Errorf("-out is required")
	}
	// Only what a cluster of one API server needs: `make demo` builds
	// these and kubectl, not the test tools (envtestutil.Assets wants
	// kube-controller-manager too).
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, b)); assets == "" || err != nil {
			return fmt.Errorf("%s missing in KUBEBUILDER_ASSETS=%q: run through make demo (hack/tools.sh demo-env builds it)", b, assets)
		}
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	if _, err := env.Start(); err != nil {
		return err
	}
	defer env.Stop()
	u, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	b, err := u.KubeConfig()
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig+".tmp", b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(kubeconfig+".tmp", kubeconfig); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

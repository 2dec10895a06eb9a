// Command kseal-controller unseals SealedSecrets into Secrets and manages the
// cluster keypair. It runs in a cluster or, from KUBECONFIG, outside one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"kseal.dev/kseal/internal/controller"
	_ "kseal.dev/kseal/internal/providers"
	"kseal.dev/kseal/internal/version"
	"kseal.dev/kseal/pkg/keys"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// The cache is most of the heap: collecting at 50% growth instead
		// of 100% cuts peak memory by about a quarter for little CPU.
		debug.SetGCPercent(50)
	}
	err := run(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		return // the usage was printed: asking for help is no error
	case err != nil:
		fmt.Fprintf(os.Stderr, "kseal-controller: error: %v\n", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad command line: exit 2, as kseal's.
type usageError struct{ error }

func run(args []string) error {
	fs := flag.NewFlagSet("kseal-controller", flag.ContinueOnError)
	o := controller.Options{LeaderElectionID: "kseal-controller.kseal.dev"}
	var watch, logFormat string
	var qps float64
	var burst int
	fs.StringVar(&o.Namespace, "namespace", envOr("KSEAL_NAMESPACE", "kseal-system"), "the controller's namespace: cluster keys, published recipients, leader lease")
	fs.StringVar(&watch, "watch-namespaces", "", "comma-separated namespaces to watch (default: all)")
	fs.DurationVar(&o.RenewPeriod, "key-renew-period", 30*24*time.Hour, "generate a new cluster key this often; old keys keep opening")
	fs.BoolVar(&o.X25519, "x25519", false, "generate classic X25519 cluster keys instead of the post-quantum hybrid")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "Prometheus metrics address (0 disables)")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "/healthz and /readyz address")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "address serving /debug/pprof (0 disables)")
	fs.StringVar(&o.RecipientsAddr, "recipients-bind-address", ":8082", "address serving /v1/recipients (0 disables)")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "use a Lease so only one replica unseals and rotates keys")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "SealedSecrets reconciled in parallel")
	fs.Float64Var(&qps, "kube-api-qps", 500, "client queries per second to the API server")
	fs.IntVar(&burst, "kube-api-burst", 1000, "client burst to the API server")
	fs.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&o.ClusterName, "cluster-name", "", "this cluster's name in the policy (kseal.yaml clusters:), whose keys are the controller's")
	fs.BoolVar(&o.PolicyRevokeDeletes, "policy-revoke-deletes", false, "when the valid, current policy stops granting a SealedSecret, delete the Secret it had produced (default: keep it, mark PolicyDenied); an invalid or missing policy never deletes")
	fs.BoolVar(&o.RequirePolicy, "require-policy", false, "deny every unseal while no policy is configured (no kseal-policy ConfigMap and no kept copy of a valid one)")
	fs.BoolVar(&o.AllowControllerNamespace, "allow-controller-namespace", false, "also unseal SealedSecrets in the controller's own namespace (where its keys live)")
	keys.BindControllerFlags(fs) // providers' in-cluster authentication (e.g. --vault-auth-role)
	showVersion := fs.Bool("version", false, "print the version, commit, Go version and envelope format version, and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	switch {
	case *showVersion || (fs.NArg() == 1 && fs.Arg(0) == "version"):
		fmt.Printf("kseal-controller %s\n", version.Get())
		return nil
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected argument %q: the controller takes flags only (and \"version\")", fs.Arg(0))}
	}
	if watch != "" {
		o.WatchNamespaces = strings.Split(watch, ",")
	}
	switch logFormat {
	case "json":
		ctrl.SetLogger(zap.New(zap.UseDevMode(false)))
	case "text":
		ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.StacktraceLevel(zapcore.PanicLevel)))
	default:
		return fmt.Errorf("--log-format %q: want json or text", logFormat)
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = float32(qps), burst
	// KMS identities (ambient cloud credentials: IRSA, Workload Identity)
	// and any age identities from the environment, besides the cluster keys.
	extra, err := keys.DefaultIdentities(context.Background())
	if err != nil {
		return err
	}
	o.ExtraIdentities = func() []keys.Identity { return extra }
	mgr, _, err := controller.NewManager(cfg, o)
	if err != nil {
		return err
	}
	ctrl.Log.Info("starting kseal-controller", "namespace", o.Namespace, "watch", watch, "keyRenewPeriod", o.RenewPeriod.String())
	return mgr.Start(ctrl.SetupSignalHandler())
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Package app is kseal-controller's command: the option structs that bind
// its flags, and Run, which wires them into a manager and starts it. main
// only parses and reports.
package app

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"kseal.dev/kseal/internal/controller"
	_ "kseal.dev/kseal/internal/providers" // the key providers the controller opens with
	"kseal.dev/kseal/internal/version"
	"kseal.dev/kseal/pkg/keys"
)

// Options are all of kseal-controller's options, each group binding its
// own flags.
type Options struct {
	Controller controller.Options
	Client     ClientOptions
	Log        LogOptions
	// Version prints the version and exits.
	Version bool
}

// BindFlags binds every option's flag to fs.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	o.Controller.BindFlags(fs)
	o.Client.BindFlags(fs)
	o.Log.BindFlags(fs)
	keys.BindControllerFlags(fs) // providers' in-cluster authentication (e.g. --vault-auth-role)
	fs.BoolVar(&o.Version, "version", false, "print the version, commit, Go version and envelope format version, and exit")
}

// SetArgs takes the arguments left after the flags: none, or "version"
// (as --version).
func (o *Options) SetArgs(args []string) error {
	switch {
	case len(args) == 1 && args[0] == "version":
		o.Version = true
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q: the controller takes flags only (and \"version\")", args[0])
	}
	return nil
}

// Validate checks the options together, once the flags are parsed; an
// error is a bad command line.
func (o *Options) Validate() error {
	return o.Controller.Validate()
}

// ClientOptions configure the client to the API server.
type ClientOptions struct {
	QPS   float64
	Burst int
}

// BindFlags binds the client's flags to fs.
func (o *ClientOptions) BindFlags(fs *flag.FlagSet) {
	fs.Float64Var(&o.QPS, "kube-api-qps", 500, "client queries per second to the API server")
	fs.IntVar(&o.Burst, "kube-api-burst", 1000, "client burst to the API server")
}

// Apply sets the client's limits on cfg.
func (o *ClientOptions) Apply(cfg *rest.Config) {
	cfg.QPS, cfg.Burst = float32(o.QPS), o.Burst
}

// LogOptions configure the log.
type LogOptions struct {
	Format string
}

// BindFlags binds the log's flags to fs.
func (o *LogOptions) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Format, "log-format", "json", "log format: json or text")
}

// Logger returns the logger the options describe.
func (o *LogOptions) Logger() (logr.Logger, error) {
	switch o.Format {
	case "json":
		return zap.New(zap.UseDevMode(false)), nil
	case "text":
		return zap.New(zap.UseDevMode(true), zap.StacktraceLevel(zapcore.PanicLevel)), nil
	}
	return logr.Discard(), fmt.Errorf("--log-format %q: want json or text", o.Format)
}

// Run starts the controller with o until ctx ends; with --version it prints
// the version to stdout instead.
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	if o.Version {
		_, err := fmt.Fprintf(stdout, "kseal-controller %s\n", version.Get())
		return err
	}
	log, err := o.Log.Logger()
	if err != nil {
		return err
	}
	ctrl.SetLogger(log)
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	o.Client.Apply(cfg)
	// KMS identities (ambient cloud credentials: IRSA, Workload Identity)
	// and any age identities from the environment, besides the cluster keys.
	extra, err := keys.DefaultIdentities(ctx)
	if err != nil {
		return err
	}
	o.Controller.ExtraIdentities = func() []keys.Identity { return extra }
	mgr, _, err := controller.NewManager(cfg, o.Controller)
	if err != nil {
		return err
	}
	c := o.Controller
	log.Info("starting kseal-controller", "namespace", c.Namespace, "watch", c.WatchNamespaces, "watchLabelSelector", c.WatchLabelSelector, "keyRenewPeriod", c.RenewPeriod.String())
	return mgr.Start(ctx)
}

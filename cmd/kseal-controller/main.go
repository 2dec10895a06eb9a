// Command kseal-controller unseals SealedSecrets into Secrets and manages the
// cluster keypair. It runs in a cluster or, from KUBECONFIG, outside one.
// Its options and their flags are in package app.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	ctrl "sigs.k8s.io/controller-runtime"

	"kseal.dev/kseal/cmd/kseal-controller/app"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// The cache is most of the heap: collecting at 50% growth instead
		// of 100% cuts peak memory by about a quarter for little CPU.
		debug.SetGCPercent(50)
	}
	fs := flag.NewFlagSet("kseal-controller", flag.ContinueOnError)
	var o app.Options
	o.BindFlags(fs)
	err := fs.Parse(os.Args[1:])
	if err == nil {
		err = o.SetArgs(fs.Args())
	}
	if err == nil {
		err = o.Validate()
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return // the usage was printed: asking for help is no error
	case err != nil:
		fmt.Fprintf(os.Stderr, "kseal-controller: error: %v\n", err)
		os.Exit(2) // a bad command line, as kseal's
	}
	if err := app.Run(ctrl.SetupSignalHandler(), o, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kseal-controller: error: %v\n", err)
		os.Exit(1)
	}
}

// Command kseal seals Kubernetes Secrets for git. See `kseal --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"kseal.dev/kseal/internal/cli"
	_ "kseal.dev/kseal/internal/providers"
)

func main() { os.Exit(run()) }

// run is kseal's whole entry point; the tests run it in the test binary
// (testscript.Main), so the scripts count in coverage and run under -race.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

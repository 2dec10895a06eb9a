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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

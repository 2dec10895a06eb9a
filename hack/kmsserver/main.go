// Command kmsserver runs the protocol-level AWS KMS test server of
// internal/kmstest as a process, for benchmarks and manual testing:
//
//	kmsserver -addr 127.0.0.1:4599 -key arn:aws:kms:… -latency 20ms
//
// GET /kseal-test/calls returns the calls served so far, by operation.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"kseal.dev/kseal/internal/kmstest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	keyList := flag.String("key", "", "comma-separated key ARNs")
	latency := flag.Duration("latency", 0, "latency added to every call")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	arns := strings.Split(*keyList, ",")
	srv := kmstest.ServeAWS(ln, arns...)
	for _, k := range arns {
		srv.SetFault(k, kmstest.Fault{Latency: *latency})
	}
	fmt.Println(srv.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	_ = srv.Close()
}

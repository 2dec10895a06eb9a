//go:build linux

// Command rusage runs a command and prints what it cost, for the bench
// scripts: wall seconds, user and system CPU seconds, and peak resident
// size in KiB, on one line. GNU time prints CPU to a hundredth of a
// second, a tenth of an X25519 decrypt of 1,000 objects; this prints the
// kernel's microseconds.
//
//	rusage [-o FILE] CMD [ARG...]
//
// The command's standard streams are rusage's own. Its exit status is
// rusage's; the figures are written (to FILE, appended, when given) only
// when it succeeded.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	out := os.Stdout
	if len(args) > 1 && args[0] == "-o" {
		f, err := os.OpenFile(args[1], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		out, args = f, args[2:]
	}
	if len(args) == 0 {
		fail(errors.New("usage: rusage [-o FILE] CMD [ARG...]"))
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(max(exit.ExitCode(), 1))
	}
	if err != nil {
		fail(err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fail(errors.New("no resource usage for the command"))
	}
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	// Maxrss is in KiB on Linux: the largest of the command and the
	// children it waited for, as GNU time's %M.
	if _, err := fmt.Fprintf(out, "%.6f %.6f %.6f %d\n", wall.Seconds(), sec(ru.Utime), sec(ru.Stime), ru.Maxrss); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rusage:", err)
	os.Exit(2)
}

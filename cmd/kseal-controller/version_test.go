package main_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestHelpAndVersion: asking the built controller for help is no error
// (exit 0), and --version says which build and envelope format it is.
func TestHelpAndVersion(t *testing.T) {
	ctrl := filepath.Join(bin, "kseal-controller")
	out, err := exec.Command(ctrl, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`-leader-elect`).Match(out) {
		t.Errorf("--help printed no flags:\n%s", out)
	}
	out, err = exec.Command(ctrl, "--version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^kseal-controller \S+ \(commit \S+, go\S+, envelope format 2\)\n$`).Match(out) {
		t.Fatalf("--version: %v %q", err, out)
	}
	out, err = exec.Command(ctrl, "version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^kseal-controller \S+ \(commit \S+, go\S+, envelope format 2\)\n$`).Match(out) {
		t.Fatalf("version: %v %q", err, out)
	}
	// A bad command line exits 2, as kseal's does.
	for _, args := range [][]string{{"--no-such-flag"}, {"no-such-command"}} {
		err := exec.Command(ctrl, args...).Run()
		var x *exec.ExitError
		if !errors.As(err, &x) || x.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit 2", args, err)
		}
	}
}

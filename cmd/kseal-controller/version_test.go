package main_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
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
	// A bad command line exits 2, as kseal's does; leader election
	// timings that cannot work together are one, named by their flags.
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"no-such-command"}, "no-such-command"},
		{[]string{"--leader-elect", "--leader-elect-renew-deadline=20s"}, "--leader-elect-renew-deadline=20s must be shorter than --leader-elect-lease-duration=15s"},
		{[]string{"--leader-elect-retry-period=10s"}, "--leader-elect-retry-period=10s must be shorter than --leader-elect-renew-deadline=10s"},
		{[]string{"--leader-elect-lease-duration=0"}, "--leader-elect-lease-duration=0s: must be above zero"},
	} {
		out, err := exec.Command(ctrl, c.args...).CombinedOutput()
		var x *exec.ExitError
		if !errors.As(err, &x) || x.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit 2", c.args, err)
		}
		if !strings.Contains(string(out), c.says) {
			t.Errorf("%v: output does not say %q:\n%s", c.args, c.says, out)
		}
	}
}

package controller_test

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"kseal.dev/kseal/internal/controller"
)

// TestLeaderElectionFlags: the lease timings default to controller-runtime's
// (15 s, 10 s, 2 s), and a combination client-go's elector would refuse at
// start is refused when the flags are read, naming the flags at fault.
func TestLeaderElectionFlags(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  []string
		flags []string // named in the error; none: valid
	}{
		{name: "defaults"},
		{name: "short", args: []string{"--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s", "--leader-elect-retry-period=500ms"}},
		{name: "zero lease", args: []string{"--leader-elect-lease-duration=0"}, flags: []string{"--leader-elect-lease-duration"}},
		{name: "negative renew", args: []string{"--leader-elect-renew-deadline=-1s"}, flags: []string{"--leader-elect-renew-deadline"}},
		{name: "zero retry", args: []string{"--leader-elect-retry-period=0s"}, flags: []string{"--leader-elect-retry-period"}},
		{name: "renew equals lease", args: []string{"--leader-elect-renew-deadline=15s"}, flags: []string{"--leader-elect-renew-deadline", "--leader-elect-lease-duration"}},
		{name: "lease under renew", args: []string{"--leader-elect-lease-duration=5s"}, flags: []string{"--leader-elect-renew-deadline", "--leader-elect-lease-duration"}},
		{name: "retry equals renew", args: []string{"--leader-elect-retry-period=10s"}, flags: []string{"--leader-elect-retry-period", "--leader-elect-renew-deadline"}},
		{name: "retry within jitter of renew", args: []string{"--leader-elect-retry-period=9s"}, flags: []string{"--leader-elect-retry-period", "--leader-elect-renew-deadline"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("kseal-controller", flag.ContinueOnError)
			var o controller.Options
			o.BindFlags(fs)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			if c.name == "defaults" && (o.LeaseDuration != 15*time.Second || o.RenewDeadline != 10*time.Second || o.RetryPeriod != 2*time.Second) {
				t.Errorf("defaults %v %v %v, want controller-runtime's 15s 10s 2s", o.LeaseDuration, o.RenewDeadline, o.RetryPeriod)
			}
			err := o.Validate()
			if len(c.flags) == 0 {
				if err != nil {
					t.Fatalf("%v: %v", c.args, err)
				}
				return
			}
			if !errors.Is(err, controller.ErrLeaderElection) {
				t.Fatalf("%v: error %v, want ErrLeaderElection", c.args, err)
			}
			for _, f := range c.flags {
				if !strings.Contains(err.Error(), f+"=") {
					t.Errorf("%v: error %q does not name %s", c.args, err, f)
				}
			}
		})
	}
}

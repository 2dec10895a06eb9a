package gcpkms

import "time"

// SetBackoffForTest shortens the retry schedule so that outage tests do not
// wait for real; the number of attempts stays MaxAttempts.
func SetBackoffForTest(d time.Duration) {
	backoff.Initial, backoff.Max = d, d
}

package cli

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/term"
)

// progress prints "verb n/total files" on a terminal for long runs and
// nothing when standard error is piped or the run is short.
// $KSEAL_PROGRESS=never turns it off; =always shows it from the first file
// (still only on a terminal).
type progress struct {
	e       *env
	verb    string
	total   int
	n       int
	start   time.Time
	last    time.Time
	enabled bool
	shown   bool
	after   time.Duration
}

const progressAfter = 500 * time.Millisecond

func newProgress(e *env, verb string, total int) *progress {
	f, ok := e.stderr.(*os.File)
	mode := e.getenv("KSEAL_PROGRESS")
	enabled := ok && total > 1 && term.IsTerminal(int(f.Fd())) && mode != "never" && e.getenv("KSEAL_NO_PROGRESS") == ""
	now := time.Now()
	p := &progress{e: e, verb: verb, total: total, start: now, last: now, enabled: enabled, after: progressAfter}
	if mode == "always" {
		p.after = 0
	}
	return p
}

func (p *progress) tick() {
	p.n++
	if !p.enabled {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < p.after || (p.shown && now.Sub(p.last) < 100*time.Millisecond && p.n < p.total) {
		return
	}
	p.last = now
	p.shown = true
	fmt.Fprintf(p.e.stderr, "\r%s %d/%d files", p.verb, p.n, p.total)
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprintf(p.e.stderr, "\r%s %d/%d files, done in %s\n", p.verb, p.n, p.total, time.Since(p.start).Round(time.Millisecond))
	}
}

package cli

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"kseal.dev/kseal/pkg/manifest"
)

// each calls fn for every document of kind in kinds across ins, on up to
// jobs goroutines (key services are network-bound; one call per object per
// KMS recipient), ticking the progress reporter as files complete. fn must
// only touch its own document. The error of the earliest failing document
// (in input order) is returned, wrapped with its file name; nothing is
// written by each itself.
func each(e *env, verb string, jobs int, ins []*input, kinds []manifest.Kind, fn func(in *input, d *manifest.Doc) error) error {
	return eachDoc(e, verb, jobs, ins, kinds, false, fn)
}

// eachSettled is each for a command that reads nothing of a document
// after fn changed it but what manifest.Stream.Settle keeps: each
// document is rendered as soon as fn is done with it, and its tree let go,
// so that a stream's trees are not all held until it is written. Its
// files may be parsed with manifest.ParseEach (fileFlags.each): a
// document whose tree was let go after parsing is built again for fn.
func eachSettled(e *env, verb string, jobs int, ins []*input, kinds []manifest.Kind, fn func(in *input, d *manifest.Doc) error) error {
	return eachDoc(e, verb, jobs, ins, kinds, true, fn)
}

func eachDoc(e *env, verb string, jobs int, ins []*input, kinds []manifest.Kind, settle bool, fn func(in *input, d *manifest.Doc) error) error {
	type task struct {
		in   *input
		d    *manifest.Doc
		pos  int // in tasks, for ordered errors
		file int // in ins, for progress
	}
	var tasks []task
	left := make([]atomic.Int32, len(ins))
	for i, in := range ins {
		for _, d := range in.strm.Docs {
			if slices.Contains(kinds, d.Kind) {
				tasks = append(tasks, task{in, d, len(tasks), i})
				left[i].Add(1)
			}
		}
	}
	p := newProgress(e, verb, len(ins))
	defer p.done()
	var mu sync.Mutex
	for i := range ins {
		if left[i].Load() == 0 {
			p.tick()
		}
	}
	// One bounded pool. firstFail is the earliest task that failed; a
	// failure stops only the tasks after it: an earlier task whose
	// goroutine had not run yet still runs, so the error returned is the
	// earliest in input order however the goroutines were scheduled.
	errs := make([]error, len(tasks))
	var firstFail atomic.Int64
	firstFail.Store(int64(len(tasks)))
	failed := func(pos int) {
		for cur := firstFail.Load(); int64(pos) < cur && !firstFail.CompareAndSwap(cur, int64(pos)); cur = firstFail.Load() {
		}
	}
	skip := func(pos int) bool { return firstFail.Load() < int64(pos) || e.ctx.Err() != nil }
	var g errgroup.Group
	g.SetLimit(max(jobs, 1))
	for _, t := range tasks {
		if skip(t.pos) {
			break
		}
		g.Go(func() error {
			if skip(t.pos) {
				return nil
			}
			s := t.in.strm
			err := s.Load(e.ctx, t.d)
			if err == nil {
				err = fn(t.in, t.d)
			}
			if err == nil && settle {
				err = s.Settle(t.d)
			}
			if err != nil {
				// Nothing of it is written: its tree goes, changed
				// or not, or the documents waiting in Load would
				// wait for ever.
				s.Discard(t.d)
			} else {
				s.Release(t.d)
			}
			if err != nil {
				errs[t.pos] = fmt.Errorf("%s: %w", t.in.name, err)
				failed(t.pos)
				return nil
			}
			if left[t.file].Add(-1) == 0 {
				mu.Lock()
				p.tick()
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait() // errs holds every failure; the earliest is returned below
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if err := e.ctx.Err(); err != nil {
		return err
	}
	for _, t := range tasks {
		if t.d.Changed() {
			t.in.dirty = true
		}
	}
	return nil
}

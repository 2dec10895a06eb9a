package cli

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

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
	p := newPool(e, verb, jobs, len(ins), settle, fn)
	for _, in := range ins {
		f := p.file()
		p.submitRest(in, f, kinds)
		p.read(f)
	}
	return p.wait()
}

// readWorking reads the inputs args name as f.read does, counting them in
// sum, and works on their documents of kinds with fn (settled, as
// eachSettled does) while it reads them: a document manifest.ParseEachTo
// hands on is worked on as soon as it is read, not after every input was
// read, so its tree is built once and let go at once, rather than kept or
// let go and built again. It returns once all is done. Its errors are
// those of reading everything first: a read error, then a kseal object
// cut short (checkCutShort), before any document's failure; the work
// already under way is then let go (nothing is written), and what waited
// is not done.
func (f *fileFlags) readWorking(e *env, args []string, verb string, kinds []manifest.Kind, sum *runSummary, fn func(in *input, d *manifest.Doc) error) ([]*input, error) {
	// Each large file is read as its documents are worked on; a read
	// of the same flags after would not parse what it opens (read).
	f.stream = true
	defer func() { f.stream = false }()
	var p *pool
	begin := func(files int) { p = newPool(e, verb, f.jobs, files, true, fn) }
	want := func(d *manifest.Doc) bool { return slices.Contains(kinds, d.Kind) }
	var cutShort error // the first, reported once all is read
	ins, err := f.readWith(e, args, begin, func(path string, in *input) error {
		pf := p.file()
		if f.each && !f.dotenvFile(path) {
			emit := func(s *manifest.Stream, d *manifest.Doc) error {
				if in.strm == nil {
					in.strm = s // before its first document goes to work
				}
				in.hand(d)
				p.submit(in, d, pf)
				return nil
			}
			var s *manifest.Stream
			var err error
			if in.src != nil {
				if s, err = manifest.ParseEachFrom(in.src, in.size, want, emit); err == nil {
					err = in.unchanged()
				}
			} else {
				s, err = manifest.ParseEachTo(in.text, want, emit)
			}
			if err != nil {
				return err
			}
			if in.strm == nil { // set by emit, it is read by the workers: not written again
				in.strm = s
			}
		} else {
			s, err := f.parse(path, in.text)
			if err != nil {
				return err
			}
			in.strm = s
		}
		// Before the documents not handed on (lists' items, those too
		// large, a dotenv file's) go to work: checkCutShort reads their
		// kinds, which opening changes.
		if err := checkCutShort(in); err != nil && cutShort == nil {
			cutShort = err
		}
		sum.add(in, kinds)
		p.submitRest(in, pf, kinds)
		p.read(pf)
		return nil
	})
	if err == nil {
		err = cutShort
	}
	if err != nil {
		if p != nil {
			p.stop()
			_ = p.wait()
		}
		return nil, err
	}
	return ins, p.wait()
}

// pool runs fn on documents on up to jobs goroutines as they are
// submitted, in input order, and ticks the progress reporter as files
// complete: after the file's documents were all submitted (read) and
// worked on. Submitting waits while every goroutine is busy, so a caller
// that submits documents as it parses them (readWorking) holds
// at most jobs of them at once.
type pool struct {
	e       *env
	fn      func(in *input, d *manifest.Doc) error
	settle  bool
	workers *workers
	prog    *progress
	tickMu  sync.Mutex

	// errs holds each task's failure, by its place in the input (order);
	// firstFail is the earliest place that failed. A failure stops only
	// the tasks after it: an earlier task whose goroutine had not run yet
	// still runs, or is submitted later (a list's items, after the
	// documents readWorking handed on as it read), so the error returned
	// is the earliest in input order however the goroutines ran.
	errMu     sync.Mutex
	errs      map[int64]error
	firstFail atomic.Int64
	files     int        // files started (submitting goroutine only)
	tasks     []poolTask // submitted, for dirty marks (submitting goroutine only)
	stopped   bool       // a read failed: the run ends without the progress's last line
}

type poolTask struct {
	in *input
	d  *manifest.Doc
}

// poolFile counts what is left of one file: 1 until it is read, and one
// per document submitted and not yet worked on. index is its place among
// the files.
type poolFile struct {
	left  atomic.Int32
	index int
}

// order is the place of d, of the file f, in the input: files in order,
// and in a file its documents and list items as manifest.Stream.Docs
// holds them.
func order(f *poolFile, d *manifest.Doc) int64 {
	return int64(f.index)<<40 | int64(d.Index)<<20 | int64(d.Item()+1)
}

func newPool(e *env, verb string, jobs, files int, settle bool, fn func(in *input, d *manifest.Doc) error) *pool {
	p := &pool{e: e, fn: fn, settle: settle, workers: newWorkers(jobs), prog: newProgress(e, verb, files), errs: map[int64]error{}}
	p.firstFail.Store(math.MaxInt64)
	return p
}

// file starts counting a file's documents.
func (p *pool) file() *poolFile {
	f := &poolFile{index: p.files}
	p.files++
	f.left.Store(1)
	return f
}

// read says all of f's documents were submitted.
func (p *pool) read(f *poolFile) { p.done(f) }

func (p *pool) done(f *poolFile) {
	if f.left.Add(-1) == 0 {
		p.tickMu.Lock()
		p.prog.tick()
		p.tickMu.Unlock()
	}
}

// stop lets go of every document not yet worked on, for a run that
// failed to read: what runs still finishes.
func (p *pool) stop() {
	p.stopped = true
	p.firstFail.Store(-1)
}

func (p *pool) skip(at int64) bool { return p.firstFail.Load() < at || p.e.ctx.Err() != nil }

func (p *pool) failed(at int64, err error) {
	p.errMu.Lock()
	p.errs[at] = err
	p.errMu.Unlock()
	for cur := p.firstFail.Load(); at < cur && !p.firstFail.CompareAndSwap(cur, at); cur = p.firstFail.Load() {
	}
}

// submit runs fn on d, of in and counted in f, once a goroutine is free.
// A document after one that failed is not worked on; its tree is let go.
func (p *pool) submit(in *input, d *manifest.Doc, f *poolFile) {
	pos := order(f, d)
	p.tasks = append(p.tasks, poolTask{in, d})
	f.left.Add(1)
	if p.skip(pos) {
		in.strm.Discard(d)
		return
	}
	p.workers.run(func() {
		if p.skip(pos) {
			in.strm.Discard(d)
			return
		}
		s := in.strm
		err := s.Load(p.e.ctx, d)
		if err == nil {
			err = p.fn(in, d)
		}
		if err == nil && p.settle {
			err = s.Settle(d)
		}
		if err != nil {
			// Nothing of it is written: its tree goes, changed
			// or not, or the documents waiting in Load would
			// wait for ever.
			s.Discard(d)
			p.failed(pos, fmt.Errorf("%s: %w", in.name, err))
			return
		}
		s.Release(d)
		p.done(f)
	})
}

// submitRest submits every document of in, counted in f, of the kinds in
// kinds that was not handed on as it was read (readWorking submitted
// those already).
func (p *pool) submitRest(in *input, f *poolFile, kinds []manifest.Kind) {
	for _, d := range in.strm.Docs {
		if !d.Handed() && slices.Contains(kinds, d.Kind) {
			p.submit(in, d, f)
		}
	}
}

// wait waits for every task, and returns the earliest failure.
func (p *pool) wait() error {
	p.workers.wait()
	if !p.stopped {
		p.prog.done()
	}
	if at := p.firstFail.Load(); at >= 0 && p.errs[at] != nil {
		return p.errs[at]
	}
	if err := p.e.ctx.Err(); err != nil {
		return err
	}
	for _, t := range p.tasks {
		if t.d.Changed() {
			t.in.dirty = true
		}
	}
	return nil
}

// workers runs tasks on up to n goroutines that live until wait, started
// as tasks find none free. A goroutine per task started each with a small
// stack and grew it, copying, down the parse and the unwrap: a twentieth
// of a decrypt's CPU. One goroutine submits tasks and then waits.
type workers struct {
	work    chan func()
	wg      sync.WaitGroup
	started int
	n       int
}

func newWorkers(n int) *workers { return &workers{work: make(chan func()), n: max(n, 1)} }

// run hands task to a free worker, starting one if none is free and fewer
// than n run; otherwise it waits for one to be free.
func (w *workers) run(task func()) {
	select {
	case w.work <- task:
		return
	default:
	}
	if w.started < w.n {
		w.started++
		w.wg.Go(func() {
			for ; task != nil; task = <-w.work { // nil once wait closed it
				task()
			}
		})
		return
	}
	w.work <- task
}

// wait waits for every task run to finish. It is called once, by the
// goroutine that ran the tasks, and no task may be run after it. A task
// must return: one that ends its goroutine (runtime.Goexit, t.Fatal) takes
// its worker with it.
func (w *workers) wait() {
	close(w.work)
	w.wg.Wait()
}

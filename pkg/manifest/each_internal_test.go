package manifest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// compactSecrets is a stream of n Secrets of one value without a
// namespace, 14 YAML nodes in about 80 bytes each: past 5,000 of them,
// more nodes than the node budget of their size.
func compactSecrets(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\n{apiVersion: v1, kind: Secret, metadata: {name: s%d}, stringData: {a: v%d}}\n", i, i)
	}
	return b.String()
}

// TestParseEachReadsPastTheBudget: Parse refuses a stream whose Secrets
// hold more nodes than its budget; ParseEach reads it, lets go of the
// trees past the budget, and Load builds each again as it was: changed and
// settled one at a time, the stream is written as each document changed
// on its own would be. Guard: the lazy case in needsTree (without it,
// ParseEach refuses as Parse does).
func TestParseEachReadsPastTheBudget(t *testing.T) {
	text := compactSecrets(7000)
	if _, err := ParseText(text); err == nil || !strings.Contains(err.Error(), "split it into smaller files") {
		t.Fatalf("Parse: got %v, want the node budget to refuse the stream", err)
	}
	s, err := ParseEach(text)
	if err != nil {
		t.Fatal(err)
	}
	lazy := 0
	for _, d := range s.Docs {
		if d.Lazy() {
			lazy++
			if d.Node() != nil || d.Kind != KindSecret || d.Object() != fmt.Sprintf("s%d", d.Index-1) {
				t.Fatalf("doc %d: lazy, with tree %v, kind %v, object %q", d.Index, d.Node() != nil, d.Kind, d.Object())
			}
		}
	}
	if lazy < 1000 || s.Docs[0].Lazy() {
		t.Fatalf("%d lazy documents of %d, the first lazy: %v", lazy, len(s.Docs), s.Docs[0].Lazy())
	}
	ctx := context.Background()
	for _, d := range s.Docs {
		if err := s.Load(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := d.SetNamespace("other"); err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(d); err != nil {
			t.Fatal(err)
		}
		if d.Node() != nil {
			t.Fatalf("doc %d: settled with its tree", d.Index)
		}
	}
	got, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, d := range s.Docs {
		one, err := ParseText(d.raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := one.Docs[0].SetNamespace("other"); err != nil {
			t.Fatal(err)
		}
		b, err := one.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		want.WriteString(d.sep)
		want.Write(b)
	}
	if string(got) != want.String() {
		t.Fatalf("written otherwise than document by document:\n%.400s\nwant\n%.400s", got, want.String())
	}
}

// TestLazyDocumentsAreCheckedAsAnyOther: a Secret past the budget, whose
// tree ParseEach lets go, is refused for what Parse refuses it for within
// the budget: checkStrict, its metadata, and the kubectl view. Guard: the
// kubectl view runs on a lazy document before parse lets go of its tree
// (skipped for lazy documents, the "on:" case goes through).
func TestLazyDocumentsAreCheckedAsAnyOther(t *testing.T) {
	filler := compactSecrets(7000)
	for _, tc := range []struct{ name, doc, rule string }{
		{"a key twice", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns}\ndata: {a: YQ==}\ndata: {a: Yg==}\n", "key given twice"},
		{"a name the API server refuses", "apiVersion: v1\nkind: Secret\nmetadata: {name: X_Y, namespace: ns}\nstringData: {a: b}\n", "metadata.name"},
		{"a key kubectl reads as a boolean", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns}\nstringData:\n  on: b\n", "kubectl reads another key here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseText(tc.doc); err == nil || !strings.Contains(err.Error(), tc.rule) {
				t.Fatalf("alone: got %v, want %q", err, tc.rule)
			}
			_, err := ParseEach(filler + "---\n" + tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.rule) || !strings.Contains(err.Error(), "doc 7001") {
				t.Fatalf("past the budget: got %v, want doc 7001 refused for %q", err, tc.rule)
			}
		})
	}
	// The last document is past the budget indeed.
	s, err := ParseEach(filler)
	if err != nil || !s.Docs[len(s.Docs)-1].Lazy() {
		t.Fatalf("the filler's last document is not lazy (%v): the cases above test nothing", err)
	}
}

// TestLoadWaitsForTheBudget: trees built again by Load hold no more nodes
// together than the kept trees left of the stream's budget; Load waits
// until Settle, or Discard for a document changed and then failed, gives
// some back. Guards: the Acquire in Load; Discard releasing a changed
// document (a seal that failed after changing one hung for ever).
func TestLoadWaitsForTheBudget(t *testing.T) {
	text := compactSecrets(20000)
	s, err := ParseEach(text)
	if err != nil {
		t.Fatal(err)
	}
	full := s.treeNodes
	if full == 0 || full >= nodeBudget(len(text)) {
		t.Fatalf("Load's budget is %d of the stream's %d: not what the kept trees left", full, nodeBudget(len(text)))
	}
	var held []*Doc
	nodes := 0
	var next *Doc
	for _, d := range s.Docs {
		if !d.Lazy() {
			continue
		}
		if nodes+int(d.nodes) > full {
			next = d
			break
		}
		if err := s.Load(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		held, nodes = append(held, d), nodes+int(d.nodes)
	}
	if next == nil {
		t.Fatalf("%d nodes of lazy documents in all, within the budget of %d: nothing to wait for", nodes, full)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Load(ctx, next); !errors.Is(err, context.DeadlineExceeded) || next.Node() != nil {
		t.Fatalf("Load past the budget: got %v, tree %v; want it to wait", err, next.Node() != nil)
	}
	// Changed, then failed: Release keeps its tree (its change is not
	// written), Discard gives it back.
	if err := held[0].SetNamespace("x"); err != nil {
		t.Fatal(err)
	}
	s.Release(held[0])
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := s.Load(ctx2, next); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load after Release of a changed document: got %v, want it to wait", err)
	}
	s.Discard(held[0])
	ctx3, cancel3 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel3()
	if err := s.Load(ctx3, next); err != nil || next.Node() == nil {
		t.Fatalf("Load once nodes were given back: %v", err)
	}
	if err := s.Settle(held[1]); err != nil { // unchanged: its tree let go
		t.Fatal(err)
	}
	if held[1].Node() != nil {
		t.Fatal("an unchanged document kept its tree after Settle")
	}
}

// TestLazyDocumentLargerThanWhatIsLeft: once the stream is parsed, a lazy
// document needing more nodes than the kept trees left of the budget is
// refused, named, as Parse refuses a tree over the budget: Load could
// never build it and would wait for ever. The stream is compact Secrets
// (kept, then lazy) and one last Secret of more than eachLazyMax nodes
// (kept), as large as the budget lets it be: what it leaves is less than
// any lazy document needs. Guard: the check in lazyBudget (without it,
// ParseEach accepts the stream).
func TestLazyDocumentLargerThanWhatIsLeft(t *testing.T) {
	prefix := compactSecrets(2300) // past eachResident: the last ones lazy
	s, err := ParseEach(prefix)
	if err != nil {
		t.Fatal(err)
	}
	firstLazy := 0
	for _, d := range s.Docs {
		if d.Lazy() {
			firstLazy = d.Index
			break
		}
	}
	if firstLazy == 0 {
		t.Fatal("no lazy document: the test tests nothing")
	}
	last := len(s.Docs) + 1
	withLast := func(keys int) string {
		var b strings.Builder
		b.WriteString(prefix + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: last}\nstringData: {")
		for i := range keys {
			fmt.Fprintf(&b, "k%d: a, ", i)
		}
		b.WriteString("z: a}\n")
		return b.String()
	}
	refusedDoc := func(keys int) int {
		_, err := ParseEach(withLast(keys))
		var e *Error
		switch {
		case err == nil:
			return 0
		case errors.As(err, &e) && strings.Contains(err.Error(), "split it into smaller files"):
			return e.Doc
		}
		t.Fatalf("%d keys: %v", keys, err)
		return -1
	}
	// lo keys: the last Secret is kept (past eachLazyMax nodes, it is
	// never lazy); hi: it is over the budget itself.
	lo, hi := eachLazyMax/2+1, 40000
	if refusedDoc(lo) == last || refusedDoc(hi) != last {
		t.Fatalf("the bounds do not hold: %d keys refused at doc %d, %d keys at doc %d", lo, refusedDoc(lo), hi, refusedDoc(hi))
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if refusedDoc(mid) == last {
			hi = mid
		} else {
			lo = mid
		}
	}
	if got := refusedDoc(lo); got != firstLazy {
		t.Fatalf("with the last Secret as large as the budget allows, refused at doc %d; want the first lazy one, doc %d", got, firstLazy)
	}
}

// TestParseEachToHandsOnAsItReads: ParseEachTo reads a stream of Secrets
// past the node budget, as ParseEach does, but hands each one it wants to
// emit as soon as it is read, in order, with its tree; none is kept or
// lazy, so none is built twice. Handed on and let go (Settle, or Release
// when unchanged), a document holds no tree, and the stream is written as
// ParseEach's. One it does not want is lazy, as past ParseEach's
// residents; a list is not handed on (its items share its tree). Guards:
// the handable case in needsTree (without it, the documents are kept or
// lazy, not handed on); Release and Discard letting go of a handed tree.
func TestParseEachToHandsOnAsItReads(t *testing.T) {
	list := "---\n{apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: Secret, metadata: {name: l}, stringData: {a: b}}]}\n"
	text := compactSecrets(7000) + list + "---\n{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n"
	var handed []*Doc
	want := func(d *Doc) bool { return d.Kind == KindSecret && d.Index%2 == 1 }
	s, err := ParseEachTo(text, want, func(s *Stream, d *Doc) error {
		if d.Node() == nil || d.Lazy() || !d.Handed() {
			t.Fatalf("doc %d handed on with tree %v, lazy %v, handed %v", d.Index, d.Node() != nil, d.Lazy(), d.Handed())
		}
		if len(handed) > 0 && handed[len(handed)-1].Index >= d.Index {
			t.Fatalf("doc %d handed on after doc %d", d.Index, handed[len(handed)-1].Index)
		}
		handed = append(handed, d)
		// Worked on at once: one in two changed and settled, the
		// others left as they are.
		if err := s.Load(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if d.Index%4 == 1 {
			if err := d.SetNamespace("other"); err != nil {
				t.Fatal(err)
			}
			if err := s.Settle(d); err != nil {
				t.Fatal(err)
			}
		} else {
			s.Release(d) // unchanged
		}
		if d.Node() != nil {
			t.Fatalf("doc %d: let go with its tree", d.Index)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(handed) != 3500 {
		t.Fatalf("%d documents handed on, want the 3,500 odd ones", len(handed))
	}
	lazy := 0
	for _, d := range s.Docs {
		switch {
		case d.Handed():
		case d.Kind == KindSecret && d.Item() < 0:
			if !d.Lazy() {
				t.Fatalf("doc %d: not wanted, and kept rather than let go", d.Index)
			}
			lazy++
		case d.Lazy():
			t.Fatalf("doc %d (%v) lazy", d.Index, d.Kind)
		}
	}
	if lazy != 3500 {
		t.Fatalf("%d lazy documents, want the 3,500 even ones", lazy)
	}
	got, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ParseEach(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ref.Docs {
		if d.Index%4 != 1 || d.Kind != KindSecret || d.Item() >= 0 {
			continue
		}
		if err := ref.Load(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if err := d.SetNamespace("other"); err != nil {
			t.Fatal(err)
		}
		if err := ref.Settle(d); err != nil {
			t.Fatal(err)
		}
	}
	want2, err := ref.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want2) {
		t.Fatal("written otherwise than ParseEach's stream")
	}
}

// TestParseEachToStopsAtEmitsError: an error from emit ends the parse and
// is what it returns; nothing after is read.
func TestParseEachToStopsAtEmitsError(t *testing.T) {
	stop := errors.New("stop here")
	n := 0
	_, err := ParseEachTo(compactSecrets(10)+"---\n{not: yaml\n", func(*Doc) bool { return true }, func(_ *Stream, d *Doc) error {
		n++
		if d.Index == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("got %v after %d documents, want the emit error after 3", err, n)
	}
}

// TestHandedTreesAreBounded: the trees ParseEachTo handed on and its
// caller did not let go of yet hold at most eachLazyMax nodes together,
// however many the caller holds on to: the parse waits until it lets go
// of some. Guard: the Acquire before emit (without it, a caller with many
// workers held as many trees as it had workers).
func TestHandedTreesAreBounded(t *testing.T) {
	var mu sync.Mutex
	var held []*Doc
	var strm *Stream
	nodes, most, lastHeld := 0, 0, -1
	done := make(chan error, 1)
	go func() {
		_, err := ParseEachTo(compactSecrets(2000), func(*Doc) bool { return true }, func(s *Stream, d *Doc) error {
			mu.Lock()
			defer mu.Unlock()
			strm = s
			held = append(held, d)
			nodes += int(d.nodes)
			most = max(most, nodes)
			return nil
		})
		done <- err
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if most > eachLazyMax || most < eachLazyMax/2 {
				t.Fatalf("the trees in hand held up to %d nodes, want at most %d (and near it)", most, eachLazyMax)
			}
			return
		case <-time.After(20 * time.Millisecond):
			// Let go of what is held, as the caller's workers would, once
			// the parse has stopped handing documents on (it waits for
			// them): not while it is still filling, which a slow machine
			// (-race, every package at once) can take more than one tick
			// to do, so that it would never come near the bound.
			mu.Lock()
			if len(held) == lastHeld {
				for _, d := range held {
					strm.Discard(d)
				}
				held, nodes = nil, 0
			}
			lastHeld = len(held)
			mu.Unlock()
		}
	}
}

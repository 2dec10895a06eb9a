package manifest

import (
	"context"

	"golang.org/x/sync/semaphore"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// Working on a stream one document at a time (ParseEach). Parse holds the
// tree of every Secret and SealedSecret until the stream is written, and
// refuses a stream whose trees would hold more nodes than its budget
// (limits.go). A command that reads a document's tree only while it works
// on it can do better:
//
//   - ParseEach keeps trees up to eachResident nodes; past them, a Secret
//     or SealedSecret is built and checked all the same (kind,
//     strictness, metadata, template, kubectl's view, all within the
//     node budget), then its tree is let go: the document is lazy.
//   - Load builds a lazy document's tree again, from the same text, once
//     the trees built again hold few enough nodes: what the kept trees
//     left of the stream's budget, and at most eachLazyMax.
//   - Settle renders a changed document and lets go of its tree; a lazy
//     one's nodes are given back.
//
// So a stream of any number of Secrets within MaxStreamSize is read, and
// what its trees hold at once stays within the budget, as Parse's do.

// letGo drops the tree of the lazy document d, just parsed and checked.
func (s *Stream) letGo(d *Doc) {
	if d.node == nil {
		d.lazy = false // not an object kseal works on, after all
		return
	}
	d.object = d.Object()
	d.node = nil
}

// lazyBudget gives the trees Load builds again the nodes the kept trees
// left of the budget, once the stream is parsed, and at most eachLazyMax.
// A lazy document that needs more is refused now, as Parse refuses it:
// Load would wait for it forever.
func (s *Stream) lazyBudget(left int) error {
	left = min(left, eachLazyMax)
	for _, d := range s.Docs {
		if !d.lazy {
			continue
		}
		if int(d.nodes) > left {
			return d.overBudget()
		}
		if s.trees == nil {
			s.trees, s.treeNodes = semaphore.NewWeighted(int64(left)), left
		}
	}
	return nil
}

// Handed reports whether ParseEachTo handed d on to its caller as it was
// read; the caller owns it from then on.
func (d *Doc) Handed() bool { return d.handed }

// Lazy reports whether d's tree was let go after parsing (ParseEach) and
// is not built again (Load): only its kind, index, line, object name and
// text are known.
func (d *Doc) Lazy() bool { return d.lazy && !d.loaded }

// Load builds the tree of the lazy document d again, waiting while the
// trees built again hold too many nodes for it; Settle lets go of it.
// Any other document is left as it is.
func (s *Stream) Load(ctx context.Context, d *Doc) error {
	if !d.Lazy() {
		return nil
	}
	if err := s.trees.Acquire(ctx, int64(d.nodes)); err != nil {
		return err
	}
	// As classify built it: the tree the events composed, or else
	// yaml.v3's (the same tree, see yamlevents/compose.go).
	var n *yaml.RNode
	_, tree, err := yamlevents.SummarizeTree(d.raw, int(d.nodes), mayWant)
	switch {
	case err != nil:
	case tree != nil:
		n = yaml.NewRNode(tree)
	default:
		n, err = yaml.Parse(d.raw)
	}
	if err != nil || n.YNode().Kind != yaml.MappingNode || kindOf(n) != d.Kind {
		// The same text, parsed and checked before: never seen.
		s.trees.Release(int64(d.nodes))
		return d.errorf("", "read differently the second time")
	}
	d.node, d.loaded = n, true
	return nil
}

// Settle renders the changed document d of s now and lets go of its
// tree, for a command that reads nothing of d after changing it but its
// kind, its object's name and its text: the trees of a stream are then
// not all held until it is written, only those not yet worked on. A lazy
// document's tree is let go changed or not. A list or an item of one,
// and a document of a dotenv file, are left as they are.
func (s *Stream) Settle(d *Doc) error {
	if s.env == nil && d.changed && !d.settled && d.lst == nil && d.node != nil {
		text, err := d.encode()
		if err != nil {
			return err
		}
		d.object = d.Object()
		d.out, d.settled, d.node = text, true, nil
		if s.own {
			d.raw = "" // only the new text is written
		}
	}
	s.Release(d)
	return nil
}

// Release lets go of the tree Load built again for d (or the one
// ParseEachTo handed on with it), when d is settled or unchanged. A
// changed document keeps it: its change is still to be written.
func (s *Stream) Release(d *Doc) {
	if !(d.loaded || d.handed) || (d.changed && !d.settled) {
		return
	}
	s.Discard(d)
}

// Discard lets go of the tree Load built again for d (or the one
// ParseEachTo handed on with it) whatever its state, for a caller that
// will not write d (working on it failed): its nodes go back to the
// documents waiting in Load.
func (s *Stream) Discard(d *Doc) {
	if d.handed {
		d.node = nil
		if d.holds {
			d.holds = false
			s.handing.Release(int64(d.nodes))
		}
		return
	}
	if !d.loaded {
		return
	}
	d.node, d.loaded = nil, false
	s.trees.Release(int64(d.nodes))
}

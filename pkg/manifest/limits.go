package manifest

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// Parsing memory is bounded. A YAML node tree costs a few hundred bytes per
// node, and a node can cost as little as two bytes of input ("a,"), so a
// hostile 4 MiB file could make a parser hold half a gigabyte. kseal
// therefore reads each document's event stream first (yamlevents, memory
// bounded by nesting depth) and builds a node tree only for the documents it
// works on: Secrets, SealedSecrets, and lists holding them. Those trees are
// capped per document and, together, by a budget that grows with the input,
// so that peak memory stays within 16 times the input plus 64 MiB
// (bench/parse-memory.sh measures it). Everything else passes through as
// text, however large.
const (
	// MaxNodesPerDocument caps the nodes of one document kseal parses.
	MaxNodesPerDocument = 1 << 20
	// nodeBudgetBase and nodeBudgetPerByte set the nodes all parsed
	// documents of a stream of n bytes may hold together:
	// nodeBudgetBase + n/nodeBudgetPerByte.
	nodeBudgetBase    = 64 << 10
	nodeBudgetPerByte = 64
)

func nodeBudget(size int) int { return nodeBudgetBase + size/nodeBudgetPerByte }

// ParseEach keeps the trees of Secrets and SealedSecrets up to
// eachResident, whatever the size of the stream, each charged its nodes
// and eachDocNodes more for what a document costs besides its tree; past
// it, trees are let go and built again when worked on (each.go).
//
//   - 10,000 hybrid-sealed Secrets in one file, decrypted, peaked at
//     295 MB with the budget of their size kept and 121 MB with 64K nodes
//     resident, in less CPU (the collector had less to walk).
//   - 8K nodes is about 125 sealed Secrets of 3 values (49 nodes each
//     and eachDocNodes). Building a tree again costs CPU where it
//     happens, but holding all trees costs more in a new process: with
//     64K resident, a decrypt of 1,000 such Secrets (before it worked on
//     each as it was read, ParseEachTo; inspect and verify still read
//     whole files first) held them all and
//     took 8,800 page faults, against 5,100 with 8K, and it used 0.95 of
//     the CPU (whole process, 11 pairs) and 44 MiB at peak, not 58.
//     1K and 4K measured as 8K.
//   - Seal keeps eachResidentPlain (ParseEachPlain): its plain Secrets'
//     trees are small, and it builds a lazy one's tree twice more (the
//     sealed size check, then the sealing). With 8K, a seal of 1,000
//     Secrets of 3 values used 1.04-1.07 of the CPU, for no lower peak.
//   - 15,000 Secrets of one value in 1 MiB (bench/hostile's docs.yaml),
//     decrypted, peaked at 76-83 MB, over the bound of 82.5 MB at that
//     size, when 64K nodes of such trees were kept uncharged per
//     document; charged, about 2,200 are kept.
//
// A document of more than eachLazyMax nodes is not let go: it is kept, or
// refused, as Parse does. Working on one costs several times its tree (a
// seal of one 120K-node Secret peaked at 176 MB), and Load builds again at
// most eachLazyMax nodes at once, so the trees let go add little to what
// the budget bounds.
const (
	eachResident      = 8 << 10
	eachResidentPlain = nodeBudgetBase
	eachDocNodes      = 16
	eachLazyMax       = 4096
)

// budget is what the trees of one stream being parsed may still hold.
type budget struct {
	left int // nodes the trees kept may still take
	// each: the stream is worked on one document at a time (ParseEach).
	// A Secret or SealedSecret past resident is then built within what
	// is left, checked and let go (Doc.lazy), rather than kept, and so is
	// every one after it. What is left once the stream is parsed is what
	// Load may build again at once: the trees kept and those built again
	// stay within the budget together, as Parse's do.
	each     bool
	resident int
	// want and emit: ParseEachTo's; a document they may take is
	// handable rather than charged or lazy.
	want func(*Doc) bool
	emit func(*Stream, *Doc) error
}

// headerKind is kindOf for a document that has not been parsed yet; an
// encrypted Secret is told from a plain one once it is.
func headerKind(h yamlevents.Header) Kind {
	switch av := normAPIVersion(h.APIVersion); {
	case av == "v1" && h.Kind == "Secret":
		return KindSecret
	case av == SealedAPIVersion && h.Kind == SealedKind:
		return KindSealedSecret
	}
	return KindOther
}

// normAPIVersion reads apiVersion as apimachinery does: "/v1" is the core
// group's v1, as "v1" is.
func normAPIVersion(av string) string {
	if gv, err := schema.ParseGroupVersion(av); err == nil {
		return gv.String()
	}
	return av
}

// needsTree reads the document's events and says whether kseal must build
// its node tree, charging the tree to b, and gives the tree the events
// composed, if they did (or nil: classify then parses the text). Documents it refuses are errors,
// never skipped.
func (d *Doc) needsTree(b *budget) (*yaml.Node, bool, error) {
	// The events also build the tree, where the document is one yaml.v3
	// would give the same tree for (no comments, anchors or aliases; see
	// yamlevents/compose.go), within the budget left: a document built
	// and then not wanted is dropped at once, so what the trees hold
	// together stays within the budget.
	sum, tree, err := yamlevents.SummarizeTree(d.raw, min(b.left, MaxNodesPerDocument), mayWant)
	if err != nil {
		return nil, false, d.invalidYAML(err)
	}
	d.root, d.nodes = sum.Root, int32(sum.Nodes)
	if h := sum.Header; h != (yamlevents.Header{}) {
		d.header = &h // a copy: the summary is not kept
	}
	if sum.Documents > 1 {
		// "--- {kind: Secret}" starts a document on the separator's own
		// line; kseal splits on bare separators only and would otherwise
		// see the first one alone.
		return nil, false, d.errorf("", "holds %d YAML documents; put each after a line of its own that is just ---", sum.Documents)
	}
	if sum.Duplicate {
		return nil, false, d.errorf("", "apiVersion or kind appears twice")
	}
	if sum.Disguised || slices.ContainsFunc(sum.Items, func(h yamlevents.Header) bool { return h.Disguised }) {
		// kubectl's decoder reads !!binary and aliases: "kind: !!binary
		// U2VjcmV0" is a Secret to it, text to a reader.
		return nil, false, d.errorf("", "a key, apiVersion or kind is written with a tag or an alias; write them as plain strings")
	}
	if (sum.ItemsKey || sum.Root == yamlevents.RootSequence) && sum.Aliases > 0 {
		// kubectl resolves aliases: an alias item, or items given as an
		// alias, is a list of objects kseal would not see.
		return nil, false, d.errorf("", "anchors and aliases are not supported in lists (items)")
	}
	// A repeated key (kubectl keeps the last, kseal the first) needs no
	// rule here: in a Secret, or a list holding one, checkStrict refuses
	// it; where it would hide a Secret from kseal (a second items:), the
	// events above count that Secret, so the document is parsed and the
	// kubectl view refuses it, or it is over the node budget and refused
	// (TestRepeatedKeysAreRefusedWithoutAnEventRule).
	if sum.HasItems && sum.Incomplete > 0 && sum.Kind != "" {
		// apimachinery gives list items without apiVersion and kind the
		// list's kind less "List": a SecretList of bare items is Secrets.
		// Its items say nothing, so nothing here would parse the list: the
		// kubectl view would not run over the node budget, and this rule
		// is the only one that refuses it there.
		return nil, false, d.errorf("", "%d items without apiVersion or kind (kubectl would take them from the list's kind); write both on every item", sum.Incomplete)
	}
	// kubectl applies merge keys; kseal would take a document (or list
	// item) whose merge key supplies kind: Secret for something else.
	if sum.Merge {
		return nil, false, d.errorf("", "<<: merge keys at the top of a document are not supported")
	}
	for i, h := range sum.Items {
		if h.Merge {
			return nil, false, d.errorf(fmt.Sprintf("items[%d].<<", i), "merge keys at the top of a list item are not supported")
		}
	}
	// Decoding it as kubectl does costs about what a tree costs; the
	// budget says whether that fits (see checkKubectlView). A plain
	// document (yamlevents/plain.go) reads alike to kubectl's YAML 1.1
	// and kseal's 1.2 where the check compares them: it has nothing to
	// find there.
	d.kubectlCheck = sum.Nodes <= b.left && sum.NotPlain != ""
	want := false
	switch sum.Root {
	case yamlevents.RootMapping:
		// Any object with an items sequence is a list to kubectl, whatever
		// its kind.
		want = headerKind(sum.Header) != KindOther || (sum.HasItems && anyObject(sum.Items))
	case yamlevents.RootSequence:
		want = anyObject(sum.Items)
	}
	if !want {
		return nil, false, nil
	}
	switch {
	case sum.Nodes > MaxNodesPerDocument:
		return nil, false, d.errorf("", "%d YAML nodes, more than the %d kseal reads in one document", sum.Nodes, MaxNodesPerDocument)
	case sum.Aliases > 0:
		return nil, false, d.errorf("", "anchors and aliases are not supported in Secrets and lists of them")
	case sum.Nodes > b.left:
		return nil, false, d.overBudget()
	}
	switch lazyable := b.each && sum.Root == yamlevents.RootMapping && !sum.HasItems; {
	case lazyable && sum.Nodes <= eachLazyMax && b.emit != nil:
		d.handable = true // handed on or let go (parse): neither is kept
	case lazyable && sum.Nodes <= eachLazyMax && sum.Nodes+eachDocNodes > b.resident:
		d.lazy = true // checked now, its tree let go after (parse)
		b.resident = 0
	default:
		b.left -= sum.Nodes
		if lazyable {
			b.resident -= sum.Nodes + eachDocNodes
		}
	}
	return tree, true, nil
}

// mayWant says whether a document whose root mapping has header h may be
// one kseal works on, so that its events build its tree: a Secret or
// SealedSecret, or a list. (Any object with items holding Secrets is a
// list to kubectl too; such a document is parsed on its own, as every
// document the events did not build is.)
func mayWant(h yamlevents.Header) bool {
	return headerKind(h) != KindOther || strings.HasSuffix(h.Kind, "List")
}

// anyObject reports whether a list holds something kseal works on, or a
// list it must refuse.
func anyObject(items []yamlevents.Header) bool {
	for _, h := range items {
		if h.Duplicate || h.Disguised || headerKind(h) != KindOther || strings.HasSuffix(h.Kind, "List") {
			return true
		}
	}
	return false
}

// overBudget refuses d, a Secret (or list of them) whose tree does not fit
// in what is left of the stream's node budget.
func (d *Doc) overBudget() error {
	return d.errorf("", "the Secrets of this input hold more YAML nodes than kseal reads in %d bytes of input; split it into smaller files", len(d.raw))
}

// budgetError is returned by Parse when the input is too large to parse.
func budgetError(size int) error {
	return fmt.Errorf("input is %d bytes, more than the %d kseal reads", size, MaxStreamSize)
}

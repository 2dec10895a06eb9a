// Package manifest reads and writes the Kubernetes manifests kseal works on:
// multi-document YAML streams holding plain Secrets, SealedSecrets
// (kseal.dev/v1alpha1) and encrypted Secrets (kind Secret whose values are
// ciphertext and whose envelope rides in the kseal.dev/envelope
// annotation).
//
// Documents are parsed with sigs.k8s.io/kustomize/kyaml, which keeps
// comments, key order and unknown fields. Documents kseal does not change are
// written back byte for byte, separators included.
//
// Stability: this package is kseal's own, exported for its commands, its
// controller and its tests, and may change in any release before v1.0.
// What is stable is the format it reads and writes (docs/format.md) and
// the CLI.
package manifest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"golang.org/x/sync/semaphore"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// Kinds of document.
type Kind int

// The document kinds kseal tells apart.
const (
	KindOther        Kind = iota // anything else; passes through untouched
	KindSecret                   // v1 Secret with plaintext values
	KindEncrypted                // v1 Secret sealed in place
	KindSealedSecret             // kseal.dev/v1alpha1 SealedSecret
)

func (k Kind) String() string {
	return [...]string{"document", "Secret", "Secret", "SealedSecret"}[k]
}

// API identifiers.
const (
	SealedAPIVersion   = "kseal.dev/v1alpha1"
	SealedKind         = "SealedSecret"
	EnvelopeAnnotation = "kseal.dev/envelope"
)

// Limits that keep hostile input from exhausting memory.
const (
	MaxStreamSize = 64 << 20
	MaxDocuments  = 100000
)

// Doc is one document of a stream.
type Doc struct {
	Index int // 1-based position in the stream
	Line  int // 1-based line where the document starts
	Kind  Kind

	sep  string // separator text before the document, verbatim
	raw  string // original text
	node *yaml.RNode

	// The flags are together, not each beside what it tells of: a stream
	// holds up to MaxDocuments documents, and apart they took 24 bytes of
	// padding each (see TestDocIsSmall).
	changed bool
	// wide: the original's sequences are indented wide, not compact
	// (seqIndentStyle), and are written back so.
	wide bool
	// kubectlCheck: the document is small enough (within the node budget)
	// to be decoded once more the way kubectl reads it.
	kubectlCheck bool
	// Worked on one at a time (each.go): a lazy document's tree was let
	// go after parsing and is built again by Load (loaded); a settled one
	// is its new text, out. Either keeps the name of its object.
	lazy, loaded, settled bool
	// handed: ParseEachTo handed the document, its tree built, to its
	// caller as soon as it was read (emit); handable: it may be, once its
	// kind is known.
	handed, handable bool
	holds            bool // handed, its nodes taken from Stream.handing
	// From the event pass: the top level's kind and the node count (at
	// most MaxNodesPerDocument), beside the flags for the same reason.
	root   yamlevents.RootKind
	nodes  int32
	out    string
	object string

	// lst is what a list, or an item of one, holds of the list (list.go);
	// nil for any other document.
	lst *listed
	// From the event pass: the top level's apiVersion and kind, so that
	// with root and nodes documents kseal passes through can be looked
	// into without parsing every one of them (other.go); nil when it
	// has neither (nor any of Header's flags), as a hostile stream's
	// hundred thousand documents may not.
	header *yamlevents.Header
}

// Stream is a parsed multi-document YAML stream.
type Stream struct {
	Docs []*Doc

	// trees is what the trees of lazy documents built again by Load may
	// hold together, in nodes (each.go); nil when there is none.
	trees     *semaphore.Weighted
	treeNodes int // its size
	// handing is what the trees ParseEachTo handed on and its caller did
	// not let go of yet may hold together: eachLazyMax nodes.
	handing *semaphore.Weighted

	env *dotenv // read from a dotenv file, and written back as one (dotenv.go)
	// own: each document's text is a copy of its own (ParseEachFrom),
	// not a substring of the whole input, and Settle lets go of it.
	own bool
}

// isSeparator reads a document separator as kubectl's YAML reader does: a
// line that starts with "---" and holds nothing else but white space
// (Unicode's, not only ASCII's) or a comment.
func isSeparator(l string) bool {
	rest, ok := strings.CutPrefix(l, "---")
	if !ok {
		return false
	}
	rest = strings.TrimSpace(rest)
	return rest == "" || rest[0] == '#'
}

// Parse splits data into documents and parses those that are Secrets or
// SealedSecrets. Errors name the document.
func Parse(data []byte) (*Stream, error) {
	if len(data) > MaxStreamSize {
		return nil, budgetError(len(data))
	}
	return ParseText(string(data))
}

// ParseText is Parse of text: a caller that holds its input as a string
// gives it without a copy.
func ParseText(text string) (*Stream, error) { return parseWithin(text, &budget{}) }

// ParseEach is ParseText for a command that works on the documents one
// at a time: it calls Load before it reads a document's tree and Settle
// once done with it (the CLI's eachSettled), and reads nothing else of a
// document before. A Secret or SealedSecret past eachResident nodes of
// trees is then checked as any other and its tree let go, to be built
// again by Load, rather than refused past the node budget: a stream of
// any number of them within MaxStreamSize is read, and the trees alive at
// once stay within the node budget (see each.go).
func ParseEach(text string) (*Stream, error) {
	return parseWithin(text, &budget{each: true, resident: eachResident})
}

// ParseEachPlain is ParseEach for a command whose input is plain Secrets
// (seal, encrypt): it keeps up to eachResidentPlain nodes of trees. Such
// trees are small, and the command reads each one more than once before
// it seals it (the CLI's sealed size check), so building them again costs
// more than keeping them.
func ParseEachPlain(text string) (*Stream, error) {
	return parseWithin(text, &budget{each: true, resident: eachResidentPlain})
}

// ParseEachTo is ParseEach for a caller that works on documents while the
// stream is still being read. Each Secret or SealedSecret ParseEach could
// let go (one object of at most eachLazyMax nodes) that want takes is
// handed to emit as soon as it is read and checked, with its tree: it is
// neither kept nor let go and built again. The caller owns it from then
// on (the parse reads nothing of it again), works on it with Load a no-op,
// and lets go of its tree with Settle, Release or Discard, as of a lazy
// document Load built. An error from emit ends the parse.
//
// The trees handed on and not let go yet hold at most eachLazyMax nodes
// together, as the trees Load builds again do: the parse waits for the
// caller to let go of some (so the caller's goroutines must not wait for
// the parse). They are not charged to the stream's node budget.
//
// want and emit run on the caller's goroutine, in document order; want
// may read anything of the document, emit nothing after it hands it on.
func ParseEachTo(text string, want func(*Doc) bool, emit func(*Stream, *Doc) error) (*Stream, error) {
	return parseWithin(text, &budget{each: true, resident: eachResident, want: want, emit: emit})
}

// parseWithin is parse of text, if within MaxStreamSize, with b's node
// budget that of its size.
func parseWithin(text string, b *budget) (*Stream, error) {
	if len(text) > MaxStreamSize {
		return nil, budgetError(len(text))
	}
	b.left = nodeBudget(len(text))
	return parse(text, b)
}

func parse(text string, b *budget) (*Stream, error) {
	if err := checkEncoding(text); err != nil {
		return nil, err
	}
	return parseDocs(splitDocuments(text), &Stream{}, b)
}

// parseDocs parses the documents docs yields into s.
func parseDocs(docs iter.Seq[docText], s *Stream, b *budget) (_ *Stream, err error) {
	// The YAML parser is third-party code fed untrusted input.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid YAML: parser failed: %s", redactQuoted(fmt.Sprint(r)))
		}
	}()
	if b.emit != nil {
		s.handing = semaphore.NewWeighted(eachLazyMax)
	}
	for p := range docs {
		if len(s.Docs) >= MaxDocuments {
			return nil, fmt.Errorf("more than %d documents", MaxDocuments)
		}
		d := &Doc{Index: len(s.Docs) + 1, Line: p.line, sep: p.sep, raw: p.raw}
		if err := d.classify(b); err != nil {
			return nil, err
		}
		if d.kubectlCheck {
			if err := d.checkKubectlView(); err != nil {
				return nil, err
			}
		}
		if d.handable {
			// Not charged to the budget (needsTree): handed on, or
			// else let go as a lazy one.
			d.handable = false
			d.handed = d.node != nil && b.want(d)
			d.lazy = d.node != nil && !d.handed
		}
		if d.lazy {
			s.letGo(d)
		}
		s.Docs = append(s.Docs, d)
		s.Docs = append(s.Docs, d.itemDocs()...)
		if len(s.Docs) > MaxDocuments {
			return nil, fmt.Errorf("more than %d documents and list items", MaxDocuments)
		}
		if d.handed {
			d.object = d.Object()
			// Waits while the trees handed on and not let go yet
			// hold too many nodes for it (at most eachLazyMax,
			// whatever the caller's number of workers).
			if err := s.handing.Acquire(context.Background(), int64(d.nodes)); err != nil {
				return nil, err
			}
			d.holds = true
			if err := b.emit(s, d); err != nil {
				return nil, err
			}
		}
	}
	if err := s.lazyBudget(b.left); err != nil {
		return nil, err
	}
	return s, nil
}

// docText is one document of a stream as kseal splits it: the separator
// line before it ("" for the first), its text, and the line it starts on.
type docText struct {
	sep, raw string
	line     int
}

// splitDocuments yields the documents of text, split on its separator
// lines (isSeparator). A document's separator and text are substrings of
// text, not copies: the documents hold the input once, however many there
// are. Nothing before a first separator at the very start is a document.
func splitDocuments(text string) iter.Seq[docText] {
	return func(yield func(docText) bool) {
		sepStart, bodyStart, pos := 0, 0, 0
		start, lineNo := 1, 0
		for pos < len(text) {
			l := text[pos:]
			if i := strings.IndexByte(l, '\n'); i >= 0 {
				l = l[:i+1]
			}
			lineNo++
			if !isSeparator(strings.TrimRight(l, "\r\n")) {
				pos += len(l)
				continue
			}
			if pos != sepStart && !yield(docText{text[sepStart:bodyStart], text[bodyStart:pos], start}) {
				return
			}
			sepStart = pos
			pos += len(l)
			bodyStart, start = pos, lineNo+1
		}
		if pos != sepStart {
			yield(docText{text[sepStart:bodyStart], text[bodyStart:pos], start})
		}
	}
}

// classify parses the document enough to tell its kind.
func (d *Doc) classify(b *budget) error {
	composed, need, err := d.needsTree(b)
	if !need || err != nil {
		return err
	}
	n, err := d.tree(composed)
	if err != nil {
		return d.invalidYAML(err)
	}
	// How it is written back, should it change (a list's items take it).
	d.wide = seqIndentStyle(d.raw) == string(yaml.WideSequenceStyle)
	if seq := listItems(n); seq != nil {
		return d.expandList(n, seq)
	}
	if n.YNode().Kind != yaml.MappingNode {
		return nil
	}
	if d.Kind = kindOf(n); d.Kind != KindOther {
		d.node = n
		if err := checkStrict(d.node.YNode(), ""); err != nil {
			d.node, d.Kind = nil, KindOther
			return &Error{Doc: d.Index, Err: err}
		}
		if err := checkMetadata(d.node); err != nil {
			if d.Kind == KindSealedSecret && d.node.Field("spec") == nil {
				// A SealedSecret cut before its metadata ends.
				err = fmt.Errorf("%w: truncated or not a kseal envelope", err)
			}
			d.node, d.Kind = nil, KindOther
			return &Error{Doc: d.Index, Err: err}
		}
		if err := d.checkTemplate(); err != nil {
			return d.wrap("", err)
		}
	}
	return nil
}

// tree is the document's node tree: the one its events composed, or else
// yaml.v3's decoding of its text, which is the same tree.
func (d *Doc) tree(composed *yaml.Node) (*yaml.RNode, error) {
	if composed != nil {
		return yaml.NewRNode(composed), nil
	}
	return yaml.Parse(d.raw)
}

// kindOf tells the kind of the object n, a mapping.
func kindOf(n *yaml.RNode) Kind {
	av, kind := normAPIVersion(n.GetApiVersion()), n.GetKind()
	switch {
	case av == "v1" && kind == "Secret":
		if _, ok := n.GetAnnotations()[EnvelopeAnnotation]; ok {
			return KindEncrypted
		}
		return KindSecret
	case av == SealedAPIVersion && kind == SealedKind:
		return KindSealedSecret
	}
	return KindOther
}

// checkMetadata makes sure metadata has the shape the rest of the package
// (and kyaml's accessors, which panic otherwise) rely on.
func checkMetadata(n *yaml.RNode) error {
	for _, f := range n.YNode().Content {
		if f.Kind != yaml.ScalarNode && f.Kind != yaml.MappingNode && f.Kind != yaml.SequenceNode {
			return errors.New("aliases and anchors are not supported in Secrets")
		}
	}
	md := n.Field("metadata")
	if md == nil {
		return errors.New("metadata: missing")
	}
	m := md.Value.YNode()
	if m.Kind != yaml.MappingNode {
		return errors.New("metadata: must be a mapping")
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return errors.New("metadata: keys must be strings")
		}
		switch k.Value {
		case "name", "namespace", "generateName":
			if v.Kind == yaml.ScalarNode && v.Tag == yaml.NodeTagNull && v.Value == "" {
				continue // "name:" with nothing after it: missing, to kubectl too
			}
			if err := checkNameField(k.Value, v); err != nil {
				return err
			}
		case "labels", "annotations":
			if err := checkStringMap(v); err != nil {
				return fmt.Errorf("metadata.%s%w", k.Value, err)
			}
		}
	}
	return nil
}

// Changed reports whether the document was modified.
func (d *Doc) Changed() bool { return d.changed }

// Node returns the parsed document, or nil for KindOther.
func (d *Doc) Node() *yaml.RNode { return d.node }

// Object names the document's object as "namespace/name" (or "name").
func (d *Doc) Object() string {
	if d.node == nil {
		return d.object
	}
	if ns := d.node.GetNamespace(); ns != "" {
		return ns + "/" + d.node.GetName()
	}
	return d.node.GetName()
}

// Error is an error about one document, and optionally one field in it.
type Error struct {
	Doc    int
	Item   int // 1-based position in the document's list, 0 for none
	Kind   Kind
	Object string
	Field  string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "doc %d", e.Doc)
	if e.Item > 0 {
		fmt.Fprintf(&b, " item %d", e.Item)
	}
	if e.Object != "" {
		fmt.Fprintf(&b, ": %s %s", e.Kind, e.Object)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Err wraps err with the document's position, kind and object.
func (d *Doc) Err(err error) error { return d.wrap("", err) }

func (d *Doc) errorf(field, format string, a ...any) error {
	return d.wrap(field, fmt.Errorf(format, a...))
}

func (d *Doc) wrap(field string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Doc: d.Index, Kind: d.Kind, Object: d.Object(), Field: field, Err: err}
	if d.isItem() {
		e.Item = d.lst.item + 1
	}
	return e
}

// Rewritten reports whether the document will be written differently from
// how it was read: changed, and its new text is not the old one.
func (d *Doc) Rewritten() bool {
	if !d.changed {
		return false
	}
	if d.isItem() {
		return true
	}
	text, err := d.encode()
	return err != nil || text != d.raw
}

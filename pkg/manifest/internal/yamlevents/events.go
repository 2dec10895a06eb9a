// Package yamlevents is the YAML scanner, parser and tag resolver of
// go.yaml.in/yaml/v3 v3.0.5 (itself a port of libyaml; see LICENSE and
// NOTICE), unchanged but for the emitter, which is left out, and this
// file, plain.go, compose.go and fast.go (upstream_test.go checks that
// against the version go.mod links). It reads the event stream, so that kseal can
// learn what a document is — its kind, how many nodes it holds, whether
// it is a list of objects, whether YAML 1.1 reads it as 1.2 does — in
// memory bounded by its nesting depth, before deciding to build its node
// tree; and, for a document kseal may want, builds that tree from the
// same events (compose.go) as yaml.v3's decoder would, within a node cap.
// A document in the narrow form kseal writes has its events from a reader
// of that form alone (fast.go), which gives the parser's events for it.
package yamlevents

import (
	"fmt"
	"sync"
	"unsafe"
)

// Header is the apiVersion and kind of an object (a mapping).
type Header struct {
	APIVersion, Kind string
	Duplicate        bool // apiVersion or kind appears twice
	Merge            bool // a merge key (<<), which could supply either
	// Disguised: a key of the object, or its apiVersion or kind, is written
	// with a tag (!!binary) or an alias, so that kubectl's decoder may read
	// another string than the text says.
	Disguised bool
	Sops      bool // a "sops" key holds a mapping: sops encrypted the object
}

// Summary describes one YAML stream without keeping any of it.
type Summary struct {
	Documents int // YAML documents in the stream
	Nodes     int // scalars, sequences, mappings and aliases
	Aliases   int // aliases and anchors
	Root      RootKind
	Header             // of the first document's root mapping
	HasItems  bool     // the root mapping has a sequence under "items"
	ItemsKey  bool     // the root mapping has an "items" key, whatever its value
	Items     []Header // mapping items of the root sequence, or under items, that say anything
	ItemLists int      // items that are sequences themselves
	// Incomplete counts mapping items without apiVersion or kind, which
	// kubectl fills in from a list's kind.
	Incomplete int
	// NotPlain says why the document is not plain (plain.go), or is empty
	// when it is: YAML 1.1 and 1.2 read it alike where kseal compares.
	NotPlain string
}

// RootKind is the kind of the first document's root node.
type RootKind uint8

// Root node kinds.
const (
	RootNone RootKind = iota
	RootScalar
	RootSequence
	RootMapping
)

// Error is a YAML syntax error.
type Error struct {
	Line int // 1-based, 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("yaml: line %d: %s", e.Line, e.Msg)
	}
	return "yaml: " + e.Msg
}

type role int

const (
	roleNone role = iota
	roleRoot
	roleItems // a sequence whose entries are objects
	roleItem
)

type frame struct {
	mapping   bool
	expectKey bool
	isKey     bool // the collection is a mapping key (a complex key)
	key       string
	role      role
	// For the plain rules (plain.go): a flow collection; values kseal
	// does not compare; an object's spec; the keys seen so far.
	flow, loose, spec bool
	keys              []string
	keySet            map[string]bool
}

// Summarize reads every event of data and returns its summary. It keeps
// nothing but a stack as deep as the input's nesting (which the scanner
// caps at 10000).
func Summarize(data []byte) (*Summary, error) { return summarize(data, nil) }

// summarize is Summarize, passing every event to c when it is not nil.
// A document of the form fastEvents reads has its events from there; any
// other, from the parser.
func summarize(data []byte, c *composer) (sum *Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			sum, err = nil, &Error{Msg: fmt.Sprintf("parser failed: %v", r)}
		}
	}()
	sum = &Summary{}
	// The form fastEvents reads is printable ASCII and line breaks only:
	// plainBytes need not read it again.
	if r, ok := fastEvents(data); ok {
		defer r.free()
		if c != nil {
			c.known = r.nodes
		}
		for i := range r.evs {
			sum.event(&r.evs[i], c, &r.frames)
		}
		return sum, nil
	}
	var open frames
	if !plainBytes(data) {
		sum.notPlain("a byte other than printable ASCII and line breaks")
	}
	var p yaml_parser_t
	m := newParser(&p)
	yaml_parser_set_input_string(&p, data)
	defer freeParser(&p, m)
	var ev yaml_event_t
	for {
		// The parser can set its error and still return true with no
		// event (upstream's decoder checks p.error after every call): an
		// input such as "n:\n#\n- a\nq" would otherwise loop here for
		// ever.
		if !yaml_parser_parse(&p, &ev) || p.error != yaml_NO_ERROR || ev.typ == yaml_NO_EVENT {
			line := p.problem_mark.line
			if line == 0 {
				line = p.context_mark.line
			}
			msg := p.problem
			if msg == "" {
				msg = "unknown problem parsing YAML content"
			}
			if p.context != "" {
				msg = p.context + " " + msg
			}
			return nil, &Error{Line: line + 1, Msg: msg}
		}
		end := ev.typ == yaml_STREAM_END_EVENT
		sum.event(&ev, c, &open)
		yaml_event_delete(&ev)
		if end {
			return sum, nil
		}
		// Comments do not matter here; drop the ones the parser has
		// consumed (the scanner keeps one or two ahead), or a file of
		// comments would grow the queue without bound.
		if p.comments_head >= 64 {
			n := copy(p.comments, p.comments[p.comments_head:])
			clear(p.comments[n:])
			p.comments, p.comments_head = p.comments[:n], 0
		}
	}
}

// event takes the next event of the stream: c (when not nil) builds the
// tree from it, s counts it, fs holds the collections open.
func (s *Summary) event(ev *yaml_event_t, c *composer, fs *frames) {
	stack := &fs.open
	if c != nil {
		c.event(ev)
	}
	switch typ := ev.typ; typ {
	case yaml_STREAM_END_EVENT:
		return
	case yaml_DOCUMENT_START_EVENT:
		s.Documents++
		if ev.version_directive != nil || len(ev.tag_directives) > 0 {
			s.notPlain("a directive")
		}
	case yaml_SCALAR_EVENT, yaml_ALIAS_EVENT, yaml_SEQUENCE_START_EVENT, yaml_MAPPING_START_EVENT:
		s.Nodes++
		if typ == yaml_ALIAS_EVENT || len(ev.anchor) > 0 {
			s.Aliases++
		}
		var parent *frame
		if len(*stack) > 0 {
			parent = (*stack)[len(*stack)-1]
		}
		isKey := parent != nil && parent.mapping && parent.expectKey
		child := s.node(fs, typ, ev.value, ev.tag)
		s.plainNode(parent, isKey, ev, child)
		if child != nil {
			*stack = append(*stack, child)
		}
	case yaml_SEQUENCE_END_EVENT, yaml_MAPPING_END_EVENT:
		st := *stack
		done := st[len(st)-1]
		*stack = st[:len(st)-1]
		if done.role == roleItem {
			s.itemDone()
		}
		if len(*stack) > 0 && !done.isKey {
			s.valueDone((*stack)[len(*stack)-1])
		}
	}
	if c != nil {
		c.header(s)
	}
}

// frames is the stack of the collections open (open), and beyond its
// end the frames of those closed, for the next collection opened at their
// depth to reuse, with their keys' memory: a document then needs only as
// many frames as it is deep, and a reader of many documents (fastReader)
// as many as the deepest.
type frames struct {
	open []*frame
	// stable: the events' values are the document's own bytes, unchanged
	// while it is read (fastEvents'), so that a key is read in place, not
	// copied. Nothing of a frame outlives the reading but through clear.
	stable bool
}

// spare is the frame to reuse for a collection opened now, or nil.
func (fs *frames) spare() *frame {
	st := fs.open
	if len(st) == cap(st) {
		return nil
	}
	return st[:len(st)+1][len(st)]
}

// clear drops what the frames hold of a document (its keys), keeping
// their memory.
func (fs *frames) clear() {
	for _, f := range fs.open[:cap(fs.open)] {
		if f != nil {
			clear(f.keys[:cap(f.keys)])
			*f = frame{keys: f.keys[:0]}
		}
	}
	fs.open = fs.open[:0]
}

// itemDone closes a mapping item: one that said nothing about itself is
// dropped (memory stays bounded by what items say), one without apiVersion
// or kind is counted.
func (s *Summary) itemDone() {
	h := s.Items[len(s.Items)-1]
	if h.APIVersion == "" || h.Kind == "" {
		s.Incomplete++
	}
	if h == (Header{}) {
		s.Items = s.Items[:len(s.Items)-1]
	}
}

// node records a node event under the innermost open collection and
// returns the frame of a collection it opens.
func (s *Summary) node(fs *frames, typ yaml_event_type_t, value, tag []byte) *frame {
	stack := fs.open
	isColl := typ == yaml_SEQUENCE_START_EVENT || typ == yaml_MAPPING_START_EVENT
	var child *frame
	if isColl {
		child = fs.spare()
		if child == nil {
			child = new(frame)
		}
		*child = frame{mapping: typ == yaml_MAPPING_START_EVENT, expectKey: true, keys: child.keys[:0]}
	}
	if len(stack) == 0 {
		if s.Documents > 1 {
			return child
		}
		switch typ {
		case yaml_MAPPING_START_EVENT:
			s.Root, child.role = RootMapping, roleRoot
		case yaml_SEQUENCE_START_EVENT:
			s.Root, child.role = RootSequence, roleItems
		default:
			s.Root = RootScalar
		}
		return child
	}
	parent := stack[len(stack)-1]
	if parent.mapping && parent.expectKey {
		parent.key = ""
		if typ == yaml_SCALAR_EVENT {
			if fs.stable {
				parent.key = unsafe.String(unsafe.SliceData(value), len(value))
			} else {
				parent.key = string(value)
			}
			if parent.role == roleRoot || parent.role == roleItem {
				h := s.headerOf(parent)
				if parent.key == "<<" {
					h.Merge = true
				}
				if parent.role == roleRoot && parent.key == "items" {
					s.ItemsKey = true
				}
			}
		}
		if (parent.role == roleRoot || parent.role == roleItem) && (typ == yaml_ALIAS_EVENT || len(tag) > 0) {
			s.headerOf(parent).Disguised = true
		}
		parent.expectKey = false
		if child != nil {
			child.isKey = true
		}
		return child
	}
	switch parent.role {
	case roleRoot, roleItem:
		h := s.headerOf(parent)
		switch {
		case parent.key == "apiVersion" || parent.key == "kind":
			v := &h.APIVersion
			if parent.key == "kind" {
				v = &h.Kind
			}
			if typ != yaml_SCALAR_EVENT || (len(tag) > 0 && string(tag) != "tag:yaml.org,2002:str") {
				h.Disguised = true
			}
			if *v != "" {
				h.Duplicate = true
			} else if typ == yaml_SCALAR_EVENT {
				*v = string(value)
			}
		case parent.key == "sops" && typ == yaml_MAPPING_START_EVENT:
			h.Sops = true
		case parent.role == roleRoot && typ == yaml_SEQUENCE_START_EVENT && parent.key == "items":
			s.HasItems, child.role = true, roleItems
		}
	case roleItems:
		switch typ {
		case yaml_MAPPING_START_EVENT:
			s.Items = append(s.Items, Header{})
			child.role = roleItem
		case yaml_SEQUENCE_START_EVENT:
			s.ItemLists++
		}
	}
	if !isColl {
		s.valueDone(parent)
	}
	return child
}

// headerOf is the header an object frame (the root or a list item) fills.
func (s *Summary) headerOf(f *frame) *Header {
	if f.role == roleRoot {
		return &s.Header
	}
	return &s.Items[len(s.Items)-1]
}

// valueDone notes that a mapping's value is complete: a key comes next.
func (s *Summary) valueDone(f *frame) {
	if f.mapping {
		f.expectKey = true
	}
}

// parserMemory is what a parser allocates for every document it reads:
// its two input buffers (yaml_parser_initialize's, 2 KiB) and its token
// queue (grown by appends). A stream of 1,000 Secrets is 1,000 parsers
// one after another; they reuse these rather than allocate them again.
type parserMemory struct {
	raw, buffer []byte
	tokens      []yaml_token_t
}

var parserMemories = sync.Pool{New: func() any {
	return &parserMemory{raw: make([]byte, input_raw_buffer_size), buffer: make([]byte, input_buffer_size)}
}}

// newParser is yaml_parser_initialize with reused memory: the buffers
// have initialize's capacities and are zeroed, as make leaves them, so
// the parser reads exactly as with its own; the token queue is empty, and
// where its capacity starts changes only when the queue is compacted
// (yaml_insert_token), not what it holds.
func newParser(p *yaml_parser_t) *parserMemory {
	m := parserMemories.Get().(*parserMemory)
	*p = yaml_parser_t{raw_buffer: m.raw[:0], buffer: m.buffer[:0], tokens: m.tokens[:0]}
	return m
}

// freeParser is yaml_parser_delete, handing p's memory (from m) on to
// the next parser. The token queue, which may have grown, is kept, and
// cleared: what its tokens held (values) is let go.
func freeParser(p *yaml_parser_t, m *parserMemory) {
	// Zeroed now, not when taken: the document's bytes (plaintext, when
	// sealing) are not kept while the memory waits.
	clear(m.raw)
	clear(m.buffer)
	m.tokens = p.tokens[:cap(p.tokens)]
	clear(m.tokens)
	m.tokens = m.tokens[:0]
	if cap(m.tokens) > maxKeptTokens {
		m.tokens = nil // a hostile document's queue is not kept
	}
	yaml_parser_delete(p)
	parserMemories.Put(m)
}

// maxKeptTokens: a Secret's queue holds a few tokens at once.
const maxKeptTokens = 64

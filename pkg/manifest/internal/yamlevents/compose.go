package yamlevents

import (
	"fmt"
	"unsafe"

	yamlv3 "go.yaml.in/yaml/v3"
)

// A document kseal works on was read twice: once here for its events, and
// once more by yaml.v3's decoder (kyaml's yaml.Parse) for its node tree,
// each pass scanning every byte. SummarizeTree builds the tree from the
// same events, as yaml.v3's decoder builds it from the same parser's
// events (decode.go's parser.node, scalar, sequence, mapping and
// document), for a document whose events carry nothing that decoder
// treats specially: no comment (whose placement it rearranges), anchor or
// alias. For any other document it builds nothing and the caller parses
// as before. TestComposedTreeIsYAMLs and FuzzComposedTree compare the two
// trees field by field.

// composer builds the first document's node tree from its events, or gives
// up (tree nil) and stops.
type composer struct {
	text string // the document, which scalar values share where they are its bytes
	max  int    // nodes it may build; over that it gives up
	// keep says whether a root mapping with this apiVersion and kind may
	// be wanted; composer gives up on one that is not, once both are
	// known. (Giving up only costs a second pass where it was wrong.)
	keep    func(Header) bool
	checked bool
	nodes   int
	doc     *yamlv3.Node
	stack   []*yamlv3.Node
	off     bool
	// pending holds the children of the open collections, each one's
	// from where starts says, until its end gives it its Content in one
	// allocation of the right size, rather than as appends grow it.
	pending []*yamlv3.Node
	starts  []int
	// For a document whose events are all known before the first is
	// read (fastEvents'), known is how many nodes it has; once keep has
	// taken its header, the nodes still to build come from one slab of
	// exactly that many, and their Content from another (slabs), rather
	// than one allocation each: every node of the slab is one the tree
	// holds, so the budget, which charges nodes, charges all of it.
	known int
	slab  []yamlv3.Node
	kids  []*yamlv3.Node
}

// failf is what upstream's resolve calls for a value that cannot have the
// tag it asks for; composer only asks for a plain scalar's implicit tag,
// which never fails.
func failf(format string, args ...any) {
	panic(fmt.Sprintf("yaml: "+format, args...))
}

// ResolvesToString reports whether yaml.v3 resolves the plain scalar v to
// a string: what its encoder asks before writing a !!str value plain
// (resolve drops "_" from numbers, and knows "+.inf" and the like).
func ResolvesToString(v string) bool {
	return resolveTag(v) == strTag
}

// resolveTag is the tag resolve("", v) gives a plain scalar, without
// what resolve costs for a string: it returns the string boxed as an
// interface (an allocation), and for one that starts as a number might
// (a digit, a sign, a dot) first tries to parse it (an error value,
// another). Most scalars of a manifest are keys and strings: one with no
// hint (its first byte starts no other kind), or a hint of 'M' that is
// not in resolveMap, is a string, as resolve decides. The rest go to
// resolve. TestResolveTagIsResolves holds the two together.
func resolveTag(v string) string {
	hint := byte('N') // resolve's hint for the empty string
	if v != "" {
		hint = resolveTable[v[0]]
	}
	if hint == 0 {
		return strTag
	}
	if item, ok := resolveMap[v]; ok {
		return item.tag
	}
	if hint == 'M' {
		return strTag
	}
	tag, _ := resolve("", v)
	return tag
}

// SummarizeTree is Summarize that also returns the first document's node
// tree, as yaml.v3's decoder builds it, when the stream holds one
// document of at most maxNodes nodes without comments, anchors or aliases,
// and keep (when not nil) holds for its root mapping's header; otherwise
// the tree is nil.
func SummarizeTree(text string, maxNodes int, keep func(Header) bool) (*Summary, *yamlv3.Node, error) {
	c := &composer{text: text, max: maxNodes, keep: keep}
	// The parser reads text, never writes it (yaml_string_read_handler
	// copies from its input; nothing else touches it): it is given the
	// string's own bytes rather than a copy of each document.
	sum, err := summarize(unsafe.Slice(unsafe.StringData(text), len(text)), c)
	if err != nil || c.off || sum.Documents != 1 || c.doc == nil || len(c.doc.Content) != 1 {
		return sum, nil, err
	}
	return sum, c.doc, nil
}

func (c *composer) stop() {
	c.off, c.doc, c.stack, c.pending, c.starts = true, nil, nil, nil, nil
	c.slab, c.kids = nil, nil
}

// slabs makes the slabs of the nodes left to build of a document of
// known nodes, once keep has taken it (or there is no keep): one not
// wanted is given up early and builds nothing more.
func (c *composer) slabs() {
	if c.known == 0 || c.slab != nil || (c.keep != nil && !c.checked) {
		return
	}
	left := min(c.known, c.max+1) - c.nodes
	if left <= 1 {
		return
	}
	c.slab = make([]yamlv3.Node, left)
	// Every node but the root is a child, those built before as well.
	c.kids = make([]*yamlv3.Node, left+c.nodes)
}

// event takes the parser's next event.
func (c *composer) event(ev *yaml_event_t) {
	if c.off {
		return
	}
	if len(ev.head_comment) > 0 || len(ev.line_comment) > 0 || len(ev.foot_comment) > 0 || len(ev.tail_comment) > 0 || len(ev.anchor) > 0 {
		c.stop()
		return
	}
	switch ev.typ {
	case yaml_STREAM_START_EVENT, yaml_STREAM_END_EVENT, yaml_DOCUMENT_END_EVENT:
	case yaml_DOCUMENT_START_EVENT:
		if c.doc != nil {
			c.stop() // a second document
			return
		}
		c.doc = c.node(ev, yamlv3.DocumentNode, "", "", "")
		c.stack = append(c.stack, c.doc)
	case yaml_SCALAR_EVENT:
		style := yamlv3.Style(0)
		switch s := ev.scalar_style(); {
		case s&yaml_DOUBLE_QUOTED_SCALAR_STYLE != 0:
			style = yamlv3.DoubleQuotedStyle
		case s&yaml_SINGLE_QUOTED_SCALAR_STYLE != 0:
			style = yamlv3.SingleQuotedStyle
		case s&yaml_LITERAL_SCALAR_STYLE != 0:
			style = yamlv3.LiteralStyle
		case s&yaml_FOLDED_SCALAR_STYLE != 0:
			style = yamlv3.FoldedStyle
		}
		value := c.value(ev)
		defaultTag := ""
		if style != 0 {
			defaultTag = strTag
		} else if value == "<<" {
			defaultTag = mergeTag
		}
		n := c.node(ev, yamlv3.ScalarNode, defaultTag, string(ev.tag), value)
		n.Style |= style
		c.add(n)
	case yaml_SEQUENCE_START_EVENT:
		n := c.node(ev, yamlv3.SequenceNode, seqTag, string(ev.tag), "")
		if ev.sequence_style()&yaml_FLOW_SEQUENCE_STYLE != 0 {
			n.Style |= yamlv3.FlowStyle
		}
		c.add(n)
		c.open(n)
	case yaml_MAPPING_START_EVENT:
		n := c.node(ev, yamlv3.MappingNode, mapTag, string(ev.tag), "")
		if ev.mapping_style()&yaml_FLOW_MAPPING_STYLE != 0 {
			n.Style |= yamlv3.FlowStyle
		}
		c.add(n)
		c.open(n)
	case yaml_SEQUENCE_END_EVENT, yaml_MAPPING_END_EVENT:
		if len(c.stack) < 2 {
			c.stop()
			return
		}
		c.close()
	default: // an alias, a tail comment
		c.stop()
	}
	if c.nodes > c.max {
		c.stop()
	}
}

// header gives up on a root mapping keep does not want, once its
// apiVersion and kind are known.
func (c *composer) header(s *Summary) {
	if c.off || c.checked || c.keep == nil {
		return
	}
	if s.Root != RootMapping || s.APIVersion == "" || s.Kind == "" {
		// Not known yet: a document that says nothing of itself (no kind,
		// a sequence) gets unknownMax nodes, not the budget, so that a
		// stream of them does not build trees only to drop them.
		if c.nodes > unknownMax {
			c.stop()
		}
		return
	}
	c.checked = true
	if !c.keep(s.Header) {
		c.stop()
	}
}

// unknownMax is how many nodes composer builds of a document whose
// apiVersion and kind it does not know yet. Objects give both first; one
// that gives them later is parsed on its own, as before.
const unknownMax = 4096

// node is upstream's parser.node without comments, which composer never
// has.
func (c *composer) node(ev *yaml_event_t, kind yamlv3.Kind, defaultTag, tag, value string) *yamlv3.Node {
	c.slabs()
	var style yamlv3.Style
	if tag != "" && tag != "!" {
		tag = shortTag(tag)
		style = yamlv3.TaggedStyle
	} else if defaultTag != "" {
		tag = defaultTag
	} else if kind == yamlv3.ScalarNode {
		tag = resolveTag(value)
	}
	// One allocation per node, unless the slab holds the document's
	// nodes left (slabs): the node budget (limits.go) charges nodes, and
	// a slab's unused nodes would be memory it does not charge.
	var n *yamlv3.Node
	if len(c.slab) > 0 {
		n, c.slab = &c.slab[0], c.slab[1:]
	} else {
		n = new(yamlv3.Node)
	}
	*n = yamlv3.Node{
		Kind:   kind,
		Tag:    tag,
		Value:  value,
		Style:  style,
		Line:   ev.start_mark.line + 1,
		Column: ev.start_mark.column + 1,
	}
	return n
}

// value is the scalar's value: where it is the very bytes of the document
// at the event's marks (a plain or simply quoted scalar, in a document
// whose marks count bytes), a substring of the document, which the tree
// then shares rather than copies; otherwise a copy.
func (c *composer) value(ev *yaml_event_t) string {
	start, end := ev.start_mark.index, ev.end_mark.index
	for _, q := range [...]byte{'"', '\''} { // quoted: the marks hold the quotes
		if start < end && end <= len(c.text) && c.text[start] == q && c.text[end-1] == q {
			start, end = start+1, end-1
			break
		}
	}
	if 0 <= start && start <= end && end <= len(c.text) && c.text[start:end] == string(ev.value) {
		return c.text[start:end]
	}
	return string(ev.value)
}

// add puts n under the innermost open node.
func (c *composer) add(n *yamlv3.Node) {
	c.nodes++
	if len(c.stack) == 0 {
		c.stop()
		return
	}
	if len(c.stack) == 1 { // the document's root
		c.doc.Content = append(c.doc.Content, n)
		return
	}
	c.pending = append(c.pending, n)
}

// open makes the collection n the one that nodes are added to.
func (c *composer) open(n *yamlv3.Node) {
	c.stack = append(c.stack, n)
	c.starts = append(c.starts, len(c.pending))
}

// close ends the innermost open collection, giving it its children.
func (c *composer) close() {
	n, start := c.stack[len(c.stack)-1], c.starts[len(c.starts)-1]
	if kids := c.pending[start:]; len(kids) > 0 {
		if k := len(kids); k <= len(c.kids) {
			// Capped: an append to one node's Content must not write
			// over the next one's.
			n.Content, c.kids = c.kids[:k:k], c.kids[k:]
			copy(n.Content, kids)
		} else {
			n.Content = append(make([]*yamlv3.Node, 0, len(kids)), kids...)
		}
	}
	clear(c.pending[start:])
	c.pending, c.stack, c.starts = c.pending[:start], c.stack[:len(c.stack)-1], c.starts[:len(c.starts)-1]
}

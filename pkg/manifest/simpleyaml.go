package manifest

import (
	"errors"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// Most documents kseal writes are simple trees: block mappings and
// sequences of short words and long base64 values, with no comment, tag,
// anchor or quoting; a decrypted Secret and a freshly sealed object always
// are. yaml.v3 sets up an emitter for each document and sends every node
// through its event queue: for a plain Secret that costs more than the
// rest of decrypt's output. For a simple tree, the bytes it writes follow
// from a few rules, and writeSimple writes them itself:
//
//   - a block mapping writes "key: value" at its indent, a nested mapping
//     two spaces in, and a sequence at the same indent ("compact") or two
//     spaces in ("wide"), as kyaml sets yaml.v3 up;
//   - a sequence writes "- " and its item; a mapping item's first key
//     follows the dash, and its other keys line up with that key;
//   - a scalar is written as it is, which yaml.v3 does exactly when it
//     needs no quoting, escaping, folding or tag (simpleScalar).
//
// Anything else (a comment, a flow or quoted style, an empty collection, a
// sequence in a sequence, a tag other than the implicit one, an anchor or
// alias, a scalar outside simpleScalar's rules) and writeSimple gives up,
// and encodeYAML hands the tree to yaml.v3. n is a document, or a mapping
// encoded as one (as kyaml's RNode.Document gives for a tree it built).
// TestSimpleTreesEncodeAsYAMLDoes and FuzzSimpleTrees compare it with
// yaml.v3 itself.
func writeSimple(n *yaml.Node, seq string) (string, bool) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) != 1 || !bare(n) {
			return "", false
		}
		n = n.Content[0]
	}
	size, ok := simpleSize(n, 0)
	if !ok || !bare(n) {
		return "", false
	}
	w := simpleWriter{wide: seq == string(yaml.WideSequenceStyle)}
	w.b.Grow(min(size, MaxStreamSize)) // a larger stream is refused
	if !w.mapping(n, 0, false) {
		return "", false
	}
	return w.b.String(), true
}

// simpleSize is at least the length writeSimple writes for the
// collection n at indent, so that its text is built in one allocation
// rather than grown by doubling: each scalar's line (indent, the value,
// and at most four bytes of "- ", ": " and newline), a nested
// collection's entries two spaces further in, and, for a sequence of the
// wide style, two more. It is false, before anything is sized, for a tree
// writeSimple would not write because of its shape: a node that is not
// bare (a flow collection among them), a sequence in a sequence, or a
// node of another kind. Those are the only ways to nest collections
// without the input's own indentation, so the bound of a tree it sizes is
// linear in the input (TestSimpleSizeOfDeepFlow).
func simpleSize(n *yaml.Node, indent int) (int, bool) {
	size := 0
	for _, c := range n.Content {
		if !bare(c) {
			return 0, false
		}
		switch {
		case c.Kind == yaml.ScalarNode:
			size += indent + len(c.Value) + 4
		case c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode && n.Kind != yaml.SequenceNode:
			s, ok := simpleSize(c, indent+4)
			if !ok {
				return 0, false
			}
			size += s
		default:
			return 0, false
		}
	}
	return size, true
}

type simpleWriter struct {
	b    strings.Builder
	wide bool
}

// bare reports whether n carries nothing but its kind and content: no
// comment, anchor or style.
func bare(n *yaml.Node) bool {
	return n.Style == 0 && n.Anchor == "" && n.HeadComment == "" && n.LineComment == "" && n.FootComment == ""
}

// mapping writes the block mapping n at indent; with inline, its first key
// follows a sequence's dash already written.
func (w *simpleWriter) mapping(n *yaml.Node, indent int, inline bool) bool {
	if n.Kind != yaml.MappingNode || !bare(n) || (n.Tag != "" && n.Tag != yaml.NodeTagMap) || len(n.Content) == 0 || len(n.Content)%2 != 0 {
		return false
	}
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !simpleScalar(k, true) {
			return false
		}
		if i > 0 || !inline {
			w.indent(indent)
		}
		w.b.WriteString(k.Value)
		switch v.Kind {
		case yaml.ScalarNode:
			if !simpleScalar(v, false) {
				return false
			}
			w.b.WriteString(": ")
			w.b.WriteString(v.Value)
			w.b.WriteByte('\n')
		case yaml.MappingNode:
			w.b.WriteString(":\n")
			if !w.mapping(v, indent+2, false) {
				return false
			}
		case yaml.SequenceNode:
			w.b.WriteString(":\n")
			in := indent
			if w.wide {
				in += 2
			}
			if !w.sequence(v, in) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// sequence writes the block sequence n with its dashes at indent.
func (w *simpleWriter) sequence(n *yaml.Node, indent int) bool {
	if !bare(n) || (n.Tag != "" && n.Tag != yaml.NodeTagSeq) || len(n.Content) == 0 {
		return false
	}
	for _, item := range n.Content {
		w.indent(indent)
		w.b.WriteString("- ")
		switch item.Kind {
		case yaml.ScalarNode:
			if !simpleScalar(item, false) {
				return false
			}
			w.b.WriteString(item.Value)
			w.b.WriteByte('\n')
		case yaml.MappingNode:
			if !w.mapping(item, indent+2, true) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (w *simpleWriter) indent(n int) {
	for range n {
		w.b.WriteByte(' ')
	}
}

// simpleKeyMax is the longest key yaml.v3 writes as a simple key rather
// than after "? ".
const simpleKeyMax = 128

// simpleScalar reports whether yaml.v3 writes the scalar n exactly as its
// value, plain, without a tag:
//
//   - no comment, anchor or style, and the implicit tag of a string
//     (or none), or !!int on a canonical decimal (envjson.go's decimal)
//     and !!bool on true or false, which resolve to those tags and so are
//     written bare;
//   - a string is ASCII letters, digits and "-._/+=" (no space, so no
//     line break; no indicator; nothing to escape), begins with a letter,
//     a digit, "/" or "+" (as base64 may), and resolves to a string: a
//     word YAML reads as a bool or null (in 1.1 too) is out, and a string
//     that begins with a digit or a sign must resolve to a string by
//     yaml.v3's own resolver (yamlevents' copy), and hold a byte no
//     number, date or time has, or be one no parser reads as a number (a
//     hex key ID);
//   - a key is at most 128 bytes.
func simpleScalar(n *yaml.Node, key bool) bool {
	v := n.Value
	if n.Kind != yaml.ScalarNode || !bare(n) || v == "" || (key && len(v) > simpleKeyMax) {
		return false
	}
	switch n.Tag {
	case "", yaml.NodeTagString:
		return simpleString(v)
	case yaml.NodeTagInt:
		return decimal(v)
	case yaml.NodeTagBool:
		return v == "true" || v == "false"
	}
	return false
}

func simpleString(v string) bool {
	// One table lookup a byte: a sealed document is mostly long values.
	numeric := byte(numberByte) // every byte could be part of a number, date or time
	for i := 0; i < len(v); i++ {
		c := byteClass[v[i]]
		if c&(alnumByte|innerByte) == 0 {
			return false
		}
		numeric &= c
	}
	switch {
	case '0' <= v[0] && v[0] <= '9' || v[0] == '+':
		// yaml.v3's own resolver decides whether its encoder quotes the
		// value ("1_" is 1 to it, "+.inf" a float); mayBeNumber also
		// leaves to yaml.v3 what Go's parsers read as a number.
		return yamlevents.ResolvesToString(v) && (numeric == 0 || !mayBeNumber(v))
	case byteClass[v[0]]&alnumByte == 0 && v[0] != '/':
		return false
	case len(v) <= len("false"):
		return !yaml11Words[strings.ToLower(v)] // quote.go's words; "true" and "null" in any casing too
	}
	return true
}

// Byte classes for simpleString.
const (
	alnumByte  = 1 << iota // a letter or digit
	innerByte              // "-._/+=": in a simple string, not first (but "/" and "+")
	numberByte             // may be part of a number in any syntax YAML or Go's parsers read (decimal, 0x, 0o, 0b, exponents, hex floats) or of a date
)

var byteClass = func() (t [256]byte) {
	for c := range 256 {
		b := byte(c)
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' {
			t[c] |= alnumByte
		}
		if strings.IndexByte("-._/+=", b) >= 0 {
			t[c] |= innerByte
		}
		if '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' || strings.IndexByte("xXoObBpP._+-", b) >= 0 {
			t[c] |= numberByte
		}
	}
	return t
}()

// mayBeNumber reports whether v, a string of numberBytes, could resolve as
// something else than a string: a date (it has a dash), a binary or octal
// number by YAML's own prefixes, or anything Go's integer and float
// parsers take, which is more than yaml.v3 takes (resolve.go).
func mayBeNumber(v string) bool {
	if strings.IndexByte(v, '-') >= 0 || strings.HasPrefix(v, "0b") || strings.HasPrefix(v, "0o") {
		return true
	}
	parsed := func(err error) bool { return err == nil || errors.Is(err, strconv.ErrRange) }
	_, errInt := strconv.ParseInt(v, 0, 64)
	_, errUint := strconv.ParseUint(v, 0, 64)
	_, errFloat := strconv.ParseFloat(v, 64)
	return parsed(errInt) || parsed(errUint) || parsed(errFloat)
}

package yamlevents

import "unsafe"

// Plain documents: the subset of YAML that go.yaml.in/yaml/v2 (what
// kubectl reads YAML with, YAML 1.1) and v3 (what kseal reads it with,
// YAML 1.2) read alike, as far as the objects kseal cares about go. A
// document is plain when all of these hold:
//
//   - its bytes are printable ASCII and line breaks (\n or \r\n): no
//     tab, no Unicode line break or space, no byte-order mark;
//   - no directive, anchor, alias or tag; no merge key (<<);
//   - block collections only (an empty {} or [] is allowed);
//   - no literal or folded block scalar;
//   - every key is a scalar, unique in its mapping, and if plain, a
//     string to YAML 1.1 as to 1.2 (see String11);
//   - in an object's apiVersion, kind, metadata, type, data, stringData,
//     spec.template and spec.encryptedData, every plain scalar is such a
//     string too (elsewhere, as spec.envelope.version, numbers and words
//     may be what each reads them as: neither compares them; immutable
//     is a plain true or false, or refused, whatever the document: see
//     plainBool in package manifest);
//   - it is no list: no items at its top, not a sequence.
//
// For such a document the two readers build the same tree with the same
// strings where kseal compares them with kubectl's reading (kubectlview.go
// in package manifest), so that comparison can be skipped; it still runs
// on every document that is not plain. What the view also checked beyond
// YAML, how apimachinery reads the same text, needs no view here: lists
// (where apimachinery hands a list's kind to its items) are never plain,
// and kseal reads apiVersion with apimachinery's own parser. FuzzPlainNeedsNoKubectlView and
// TestPlainDocumentsReadAlike hold the rule to that.

// String11 reports whether a plain scalar reads as the same string to
// YAML 1.1 (yaml v2's resolve) and 1.2: not empty, not one of the words
// either reads as null, a boolean, an infinity or a merge key, and not a
// number or a date. A scalar starting with a digit, a sign or a dot is a
// string only if it holds a byte no number or date can hold.
func String11(s string) bool {
	if s == "" || special11[s] {
		return false
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '+', c == '-', c == '.':
		for i := 0; i < len(s); i++ {
			if !numberByte[s[i]] {
				return true
			}
		}
		return false
	}
	return true
}

// special11 are the words yaml v2 (YAML 1.1) or v3 resolve to something
// other than a string.
var special11 = map[string]bool{}

// numberByte: the bytes a YAML 1.1 integer (0x, 0o, 0b, _), float or
// timestamp (2001-12-14t21:59:43.10Z, 2001-12-14 21:59:43 +05:00) can hold.
var numberByte [256]bool

func init() {
	for _, w := range []string{
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF",
		"~", "null", "Null", "NULL",
		".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
		"<<",
	} {
		special11[w] = true
	}
	for _, c := range []byte("0123456789abcdefABCDEFxXoObB_+-.:tTzZ ") {
		numberByte[c] = true
	}
}

// plainBytes: printable ASCII, \n, and \r only before \n.
func plainBytes(data []byte) bool {
	for i, c := range data {
		switch {
		case c >= 0x20 && c < 0x7f, c == '\n':
		case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
		default:
			return false
		}
	}
	return true
}

// Fields of an object whose scalars kseal compares with kubectl's reading
// (kubectlview.go); under spec, only these of spec's.
var (
	comparedFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "type": true, "data": true, "stringData": true}
	comparedSpec   = map[string]bool{"template": true, "encryptedData": true}
)

// notPlain records why the document is not plain (the first reason).
func (s *Summary) notPlain(why string) {
	if s.NotPlain == "" {
		s.NotPlain = why
	}
}

// plainNode applies the rules to a node event that node() has recorded:
// parent is the innermost open collection (nil at the top), isKey says the
// node is a key of it, and child is the frame of a collection it opens.
func (s *Summary) plainNode(parent *frame, isKey bool, ev *yaml_event_t, child *frame) {
	typ := ev.typ
	switch {
	case typ == yaml_ALIAS_EVENT || len(ev.anchor) > 0:
		s.notPlain("an anchor or alias")
	case len(ev.tag) > 0:
		s.notPlain("a tag")
	case typ == yaml_SCALAR_EVENT && ev.scalar_style()&(yaml_LITERAL_SCALAR_STYLE|yaml_FOLDED_SCALAR_STYLE) != 0:
		s.notPlain("a block scalar")
	case typ == yaml_SEQUENCE_START_EVENT && ev.sequence_style() == yaml_FLOW_SEQUENCE_STYLE,
		typ == yaml_MAPPING_START_EVENT && ev.mapping_style() == yaml_FLOW_MAPPING_STYLE:
		child.flow = true
	}
	plain := typ == yaml_SCALAR_EVENT && ev.scalar_style() == yaml_PLAIN_SCALAR_STYLE
	switch {
	case parent == nil:
		if typ == yaml_SEQUENCE_START_EVENT {
			s.notPlain("a list")
		}
		return
	case parent.flow:
		s.notPlain("a flow collection that is not empty")
	}
	if isKey {
		k := parent.key // node() has read it already ("" when not a scalar)
		switch {
		case typ != yaml_SCALAR_EVENT:
			s.notPlain("a key that is not a scalar")
		case plain && !String11(k), k == "<<":
			s.notPlain("a key YAML 1.1 reads as no string")
		case parent.role == roleRoot && k == "items":
			s.notPlain("a list")
		}
		if parent.seen(k) {
			s.notPlain("a repeated key")
		}
		return
	}
	// A value or an entry: is it one kseal compares?
	loose := parent.loose
	switch {
	case parent.role == roleRoot || parent.role == roleItem:
		loose = !comparedFields[parent.key] && parent.key != "spec"
		if child != nil && parent.key == "spec" {
			child.spec = true
		}
	case parent.spec:
		loose = !comparedSpec[parent.key]
	}
	if child != nil {
		child.loose = loose
	}
	// String11 keeps nothing of the value: it is read in place.
	if plain && !loose && !String11(unsafe.String(unsafe.SliceData(ev.value), len(ev.value))) {
		s.notPlain("a value YAML 1.1 reads as no string, or as another")
	}
}

// seen records key k of a mapping frame and says whether it was there
// already: a short list while the mapping is small, a set beyond.
func (f *frame) seen(k string) bool {
	if f.keySet != nil {
		if f.keySet[k] {
			return true
		}
		f.keySet[k] = true
		return false
	}
	for _, o := range f.keys {
		if o == k {
			return true
		}
	}
	f.keys = append(f.keys, k)
	if len(f.keys) > 16 {
		f.keySet = make(map[string]bool, 2*len(f.keys))
		for _, o := range f.keys {
			f.keySet[o] = true
		}
		f.keys = nil
	}
	return false
}

package yamlevents

import (
	"bytes"
	"sync"
)

// The scanner and parser copied from yaml.v3 read a sealed object (some
// 3 KB, 60 tokens) in about 30 µs: a third of what decrypt spends on an
// object beside the crypto itself. Most documents kseal reads are ones it
// wrote, in the narrow form below, where every line is a key, a key and
// its value, or a sequence entry of either. fastEvents reads exactly that
// form in one pass over the lines and gives the events the parser gives
// for it; anything else it declines before giving any, and summarize then
// reads the document with the parser, as always. TestFastEventsAreTheParsers
// and FuzzFastEvents hold the two together: for every input fastEvents
// takes, the parser gives the same events, field by field (but for the
// marks of end events, which nothing reads).
//
// The form (every byte printable ASCII or a line break):
//
//	document := line+             each line ends in "\n"; no blank line
//	line     := indent entry
//	indent   := " "*              the columns of a block collection
//	entry    := "- " item | pair
//	item     := pair | word
//	pair     := word ":" | word ": " value
//	word     := [A-Za-z0-9+/_] [A-Za-z0-9+/=._-]*
//	value    := word, or a word with colons inside: not ending in one
//
// The first line is a pair at column 0: the root is a mapping. A pair
// without its value ("word:") opens a mapping (a pair indented deeper on
// the next line) or a sequence (an entry at its own column or deeper); a
// key with no value at all (null) is not of the form. No word holds a
// space, a colon, a quote, a "#" or an indicator a plain scalar may not
// start with, so no word is a comment, a tag, an anchor, an alias, a flow
// collection, a document marker or a quoted or block scalar.

// fastByte says which bytes a word may hold; fastFirst, which it may
// start with.
var fastByte, fastFirst = func() (rest, first [256]bool) {
	for c := 0; c < 256; c++ {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		first[c] = alnum || c == '+' || c == '/' || c == '_'
		rest[c] = first[c] || c == '=' || c == '.' || c == '-'
	}
	return
}()

// fastMaxDepth bounds the collections open at once; a deeper document is
// read by the parser.
const fastMaxDepth = 32

// fastColl is an open collection: a mapping whose keys, or a sequence
// whose dashes, are at column indent. A mapping is open when its last key
// waits for its value (a collection on the lines that follow); a
// sequence is indentless when it is at its mapping's own column.
type fastColl struct {
	indent     int
	seq        bool
	open       bool
	indentless bool
}

// fastReader makes the events of one document.
type fastReader struct {
	data  []byte
	evs   []yaml_event_t
	stack [fastMaxDepth]fastColl
	depth int
	nodes int // scalar and collection start events in evs
	// frames is what summarize reads the events with, kept from one
	// document to the next.
	frames frames
}

var fastReaders = sync.Pool{New: func() any { return &fastReader{frames: frames{stable: true}} }}

// fastEvents returns a reader holding the events of data (evs) when data
// is of the form above, to free once they are read; or ok false.
func fastEvents(data []byte) (r *fastReader, ok bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, false
	}
	r = fastReaders.Get().(*fastReader)
	r.data, r.evs, r.depth, r.nodes = data, r.evs[:0], 0, 0
	if !r.read() {
		r.free()
		return nil, false
	}
	return r, true
}

// fastMaxEvents bounds the events fastEvents holds at once (a sealed
// object has some 60 to 100): it gives all of a document's before any is
// read, where the parser gives one at a time, so a larger document (a
// Secret of more than about 500 keys, or a hostile one of a million
// lines) is read by the parser. Each event is some 250 bytes.
const fastMaxEvents = 1024

// free lets go of the document and keeps the memory of its events for
// the next one: cleared, for their values are the document's bytes.
// Every event written since the last free is within len (beyond it,
// earlier frees cleared), so a large document's memory, once grown, does
// not make every later free clear all of it.
func (r *fastReader) free() {
	clear(r.evs)
	r.frames.clear()
	r.data, r.evs = nil, r.evs[:0]
	fastReaders.Put(r)
}

func (r *fastReader) mark(index, line, col int) yaml_mark_t {
	return yaml_mark_t{index: index, line: line, column: col}
}

func (r *fastReader) emit(typ yaml_event_type_t, start, end yaml_mark_t) *yaml_event_t {
	r.evs = append(r.evs, yaml_event_t{typ: typ, start_mark: start, end_mark: end})
	return &r.evs[len(r.evs)-1]
}

// scalar emits the plain scalar data[from:to] on line at column col.
func (r *fastReader) scalar(from, to, line, col int) {
	ev := r.emit(yaml_SCALAR_EVENT, r.mark(from, line, col), r.mark(to, line, col+to-from))
	ev.value, ev.implicit, ev.style = r.data[from:to], true, yaml_style_t(yaml_PLAIN_SCALAR_STYLE)
	r.nodes++
}

// push opens a collection at column col whose start event is at start.
func (r *fastReader) push(c fastColl, start, end yaml_mark_t) bool {
	if r.depth == fastMaxDepth {
		return false
	}
	typ, style := yaml_MAPPING_START_EVENT, yaml_style_t(yaml_BLOCK_MAPPING_STYLE)
	if c.seq {
		typ, style = yaml_SEQUENCE_START_EVENT, yaml_style_t(yaml_BLOCK_SEQUENCE_STYLE)
	}
	ev := r.emit(typ, start, end)
	ev.implicit, ev.style = true, style
	r.stack[r.depth] = c
	r.depth++
	r.nodes++
	return true
}

// pop closes the innermost collection at mark m.
func (r *fastReader) pop(m yaml_mark_t) {
	r.depth--
	typ := yaml_MAPPING_END_EVENT
	if r.stack[r.depth].seq {
		typ = yaml_SEQUENCE_END_EVENT
	}
	r.emit(typ, m, m)
}

// value is the length of the value at the start of b (a word that may
// hold colons, as a URL does, but not end in one: a colon before the
// line's end would make it a key), or 0.
func value(b []byte) int {
	if len(b) == 0 || !fastFirst[b[0]] {
		return 0
	}
	n := 1
	for n < len(b) && (fastByte[b[n]] || b[n] == ':') {
		n++
	}
	if b[n-1] == ':' {
		return 0
	}
	return n
}

// fastMaxKey is the longest key the scanner reads: it takes a key only
// when its ':' is at most 1024 characters from where the key starts
// (yaml_simple_key_is_valid), and fails on a longer one.
const fastMaxKey = 1024

// key is word for a key: of at most fastMaxKey bytes, or 0.
func key(b []byte) int {
	if n := word(b); n <= fastMaxKey {
		return n
	}
	return 0
}

// word is the length of the word at the start of b, or 0.
func word(b []byte) int {
	if len(b) == 0 || !fastFirst[b[0]] {
		return 0
	}
	n := 1
	for n < len(b) && fastByte[b[n]] {
		n++
	}
	return n
}

func (r *fastReader) read() bool {
	zero := yaml_mark_t{}
	r.emit(yaml_STREAM_START_EVENT, zero, zero).encoding = yaml_UTF8_ENCODING
	r.emit(yaml_DOCUMENT_START_EVENT, zero, zero)
	data := r.data
	line := 0
	for pos := 0; pos < len(data); line++ {
		if len(r.evs) > fastMaxEvents {
			return false // a line adds at most fastMaxDepth+4
		}
		end := pos + bytes.IndexByte(data[pos:], '\n')
		l := data[pos:end]
		indent := 0
		for indent < len(l) && l[indent] == ' ' {
			indent++
		}
		at := func(col int) yaml_mark_t { return r.mark(pos+col, line, col) }
		dash := indent+1 < len(l) && l[indent] == '-' && l[indent+1] == ' '
		switch {
		case line == 0:
			if indent != 0 || dash || !r.push(fastColl{}, at(0), at(0)) {
				return false
			}
		case r.depth == 0:
			return false // a second root
		case r.stack[r.depth-1].open:
			// The value of the key above: a collection.
			top := &r.stack[r.depth-1]
			top.open = false
			switch {
			case dash && indent >= top.indent:
				// The parser's start event is its token: for a sequence
				// at its own column, the dash; for an indentless one, the
				// dash's BLOCK-ENTRY, which holds the dash.
				end, indentless := at(indent), indent == top.indent
				if indentless {
					end = at(indent + 1)
				}
				if !r.push(fastColl{indent: indent, seq: true, indentless: indentless}, at(indent), end) {
					return false
				}
			case !dash && indent > top.indent:
				if !r.push(fastColl{indent: indent}, at(indent), at(indent)) {
					return false
				}
			default:
				return false // a null value, or a line out of place
			}
		default:
			for r.depth > 0 && r.stack[r.depth-1].indent > indent {
				r.pop(at(indent))
			}
			if r.depth > 0 {
				if top := r.stack[r.depth-1]; top.seq && top.indentless && top.indent == indent && !dash {
					r.pop(at(indent))
				}
			}
			if r.depth == 0 {
				return false
			}
			top := r.stack[r.depth-1]
			if top.indent != indent || top.seq != dash {
				return false
			}
		}
		col := indent
		if dash {
			col += 2
			n := word(l[col:])
			if n == 0 {
				return false
			}
			if col+n == len(l) { // an entry that is a word
				r.scalar(pos+col, pos+col+n, line, col)
				pos = end + 1
				continue
			}
			// An entry that is a mapping, its first key on this line.
			if !r.push(fastColl{indent: col}, at(col), at(col)) {
				return false
			}
		}
		// A pair at col.
		n := key(l[col:])
		if n == 0 || col+n == len(l) || l[col+n] != ':' {
			return false
		}
		r.scalar(pos+col, pos+col+n, line, col)
		v := col + n + 1
		switch {
		case v == len(l):
			r.stack[r.depth-1].open = true
		case l[v] == ' ':
			m := value(l[v+1:])
			if m == 0 || v+1+m != len(l) {
				return false
			}
			r.scalar(pos+v+1, pos+v+1+m, line, v+1)
		default:
			return false
		}
		pos = end + 1
	}
	if r.depth > 0 && r.stack[r.depth-1].open {
		return false // the last key has no value
	}
	m := r.mark(len(data), line, 0)
	for r.depth > 0 {
		r.pop(m)
	}
	r.emit(yaml_DOCUMENT_END_EVENT, m, m).implicit = true
	r.emit(yaml_STREAM_END_EVENT, m, m)
	return true
}

package manifest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"unsafe"
)

// Reading a stream from a file as it is worked on (ParseEachFrom), rather
// than reading it whole first. Parse's documents are substrings of one
// string holding the whole input, which lives as long as any of them: a
// decrypt of 10,000 hybrid-sealed Secrets (30 MB) held those 30 MB, and
// the collector's headroom over them, to the end. Here each document's
// text is a copy of its own, and a document worked on and settled lets
// go of it (Settle): what stays is the documents not worked on, which are
// written back as they were, and the new text of those that were.

// ParseEachFrom is ParseEachTo of the size bytes r gives, read a line at
// a time: r must give exactly size bytes (a file's size when it was
// opened), or the stream is refused as changed while read. An input of
// comments alone is refused (ErrEmpty) before any other error. Each
// document's text is its own, so the input is never held whole; Settle
// lets go of a settled document's.
func ParseEachFrom(r io.Reader, size int64, want func(*Doc) bool, emit func(*Stream, *Doc) error) (*Stream, error) {
	if size > MaxStreamSize {
		return nil, budgetError(int(size))
	}
	dr := &docReader{r: bufio.NewReaderSize(r, 64<<10), size: size}
	// What checkEncoding reads of a whole text: the byte order mark.
	head, err := dr.r.Peek(4)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if err := checkEncoding(string(head)); err != nil {
		return nil, err
	}
	b := &budget{each: true, resident: eachResident, want: want, emit: emit, left: nodeBudget(int(size))}
	s, err := parseDocs(dr.docs(), &Stream{own: true}, b)
	if err != nil {
		dr.drain()
	}
	switch {
	case dr.err != nil:
		// The documents before were read whole and may have been
		// handed on; the stream is not.
		return nil, dr.err
	case !dr.content:
		// Refused before anything else is said of it, as a text
		// read whole is: it holds no document (and nothing was
		// handed on).
		return nil, ErrEmpty
	}
	return s, err
}

// ErrChanged is a file that changed while it was read: its size is not
// what it was when opened (docReader), or its size or modification time
// has changed by the end (the CLI's readWorking).
var ErrChanged = errors.New("changed while kseal read it; run again")

// docReader yields the documents of what r gives, as splitDocuments
// yields those of a string, each document's separator and text copies of
// their own. err is what ended the reading early, if anything did;
// content, whether a line read so far is not a comment (OnlyComments).
type docReader struct {
	r       *bufio.Reader
	size    int64 // what r must give
	read    int64
	err     error
	content bool
}

// line appends the next line of r, its line break included, to b; at the
// end of r, it appends nothing and reports false, and sets err if r did
// not give size bytes.
func (dr *docReader) line(b []byte) ([]byte, bool) {
	start := len(b)
	for {
		chunk, err := dr.r.ReadSlice('\n')
		dr.read += int64(len(chunk))
		if dr.read > dr.size {
			dr.err = fmt.Errorf("%w (longer than the %d bytes it had)", ErrChanged, dr.size)
			return b[:start], false
		}
		if err == bufio.ErrBufferFull && cap(b)-len(b) < len(chunk) {
			// A long line: its buffer doubles, rather than grow by
			// append's quarter and leave four times the line behind,
			// and never past what the file has left to give.
			b = slices.Grow(b, len(chunk)+int(min(int64(len(b)), dr.size-dr.read)))
		}
		b = append(b, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(b) == start && dr.read != dr.size {
				dr.err = fmt.Errorf("%w (%d bytes, not the %d it had)", ErrChanged, dr.read, dr.size)
			}
		case err != nil:
			dr.err = err
			return b[:start], false
		}
		if len(b) == start {
			return b, false
		}
		if !dr.content && !OnlyComments(view(b[start:])) {
			dr.content = true
		}
		return b, true
	}
}

// docs yields the documents read, exactly as splitDocuments yields those
// of the same bytes as a string (TestReadDocsSplitsAsText).
func (dr *docReader) docs() iter.Seq[docText] {
	return func(yield func(docText) bool) {
		// body is the document being read and, from lineStart, the
		// line being read: a separator line ends the document before it.
		var body []byte
		sep, start, lineNo := "", 1, 0
		for {
			lineStart := len(body)
			var ok bool
			if body, ok = dr.line(body); !ok {
				break
			}
			lineNo++
			if l := body[lineStart:]; maySeparate(l) && isSeparator(strings.TrimRight(view(l), "\r\n")) {
				next := separatorText(l)
				if len(sep)+lineStart > 0 {
					var raw string
					raw, body = takeDoc(body, lineStart)
					if !yield(docText{sep, raw, start}) {
						return
					}
				}
				sep, start, body = next, lineNo+1, body[:0]
			}
		}
		if dr.err == nil && len(sep)+len(body) > 0 {
			raw, _ := takeDoc(body, len(body))
			yield(docText{sep, raw, start})
		}
	}
}

// drain reads the lines left, until one is not a comment: whether the
// input is only comments, for an input whose parse ended early.
func (dr *docReader) drain() {
	var b []byte
	for !dr.content {
		var ok bool
		if b, ok = dr.line(b[:0]); !ok {
			return
		}
	}
}

// ErrEmpty is an input with no document at all: every line of it blank, a
// comment or a bare separator (OnlyComments). `kseal seal f.yaml > f.yaml`
// truncates f.yaml before kseal reads it; succeeding on the empty file
// would leave it empty with exit 0.
var ErrEmpty = errors.New("empty input: no documents")

// OnlyComments reports whether every line of data is blank, a comment or
// a bare separator, without copying it.
func OnlyComments(data string) bool {
	for len(data) > 0 {
		l := data
		if i := strings.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = ""
		}
		if t := strings.TrimSpace(l); len(t) > 0 && t[0] != '#' && t != "---" {
			return false
		}
	}
	return true
}

// largeDoc is the size past which the buffer of a document read is not
// kept for the next ones (takeDoc).
const largeDoc = 1 << 20

// takeDoc returns the document b[:n] as a string of its own, and the
// buffer to read the next one into. A document's text is a copy, and b
// is read into again; past largeDoc, b is let go rather than kept for
// the rest of the file, and is the document's text itself (no copy)
// when it wastes at most half of it.
func takeDoc(b []byte, n int) (string, []byte) {
	switch {
	case cap(b) <= largeDoc:
		return string(b[:n]), b[:0]
	case cap(b)-n <= n/2:
		return view(b[:n]), nil // b is not written again
	}
	return string(b[:n]), nil
}

// view is b as a string, not a copy: for a call that keeps nothing of it
// while b does not change, or for b's last use, after which b is never
// written again (takeDoc).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// separatorText is a copy of the separator line l; the usual one is not
// copied at all.
func separatorText(l []byte) string {
	if string(l) == "---\n" {
		return "---\n"
	}
	return string(l)
}

// maySeparate says whether the line l may be a separator (isSeparator),
// before a string of it is made to tell.
func maySeparate(l []byte) bool {
	return len(l) >= 3 && l[0] == '-' && l[1] == '-' && l[2] == '-'
}

package manifest

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// readDocs is what a docReader yields of text, given as r makes of it.
func readDocs(text string, wrap func(io.Reader) io.Reader) ([]docText, error) {
	dr := &docReader{r: bufio.NewReaderSize(wrap(strings.NewReader(text)), 16), size: int64(len(text))}
	docs := slices.Collect(dr.docs())
	return docs, dr.err
}

// splitTexts are streams whose splitting has a case of its own: none,
// separators first, last, twice in a row, with comments, spaces and CRLF
// after them, lookalikes, no final line break, lines longer than the
// reader's buffer.
var splitTexts = []string{
	"", "\n", "---", "---\n", "---\n---\n", "a: 1", "a: 1\n", "---\na: 1\n", "a: 1\n---\n",
	"a: 1\n---\nb: 2\n", "a: 1\n---\r\nb: 2\r\n", "--- # c\na: 1\n---  \nb: 2", "----\na: 1\n",
	"a: 1\n --- \nb: 2\n", "---a\n---\n\n---\n", "# only\n# comments\n", "a: " + strings.Repeat("x", 100) + "\n---\n" + strings.Repeat("y", 40),
	"---" + strings.Repeat(" ", 50) + "\nb: 1\n", "a\r\n---\r\n---\r\nb", "---\u00a0\na: 1\n", "---\t# x\n",
}

// TestReadDocsSplitsAsText: ParseEachFrom's reader splits what it reads
// exactly as splitDocuments splits the same bytes as a string (separator,
// text and first line of each document), however the reads come: whole,
// a byte at a time, or in halves; and the lines longer than its buffer.
func TestReadDocsSplitsAsText(t *testing.T) {
	// And documents past largeDoc, whose buffer is handed over or let go.
	big := strings.Repeat("x", largeDoc+largeDoc/2)
	texts := append(slices.Clone(splitTexts), "a: "+big+"\n---\nb: 1\n---\n"+big[:largeDoc/3], "b: 1\n--- # c\n"+big+"\n---\n"+big)
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"---", "--- #c", "---\t", "----", "a: 1", "", " ", "#", "b: " + strings.Repeat("z", 40), "\r"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			if rng.IntN(5) > 0 {
				b.WriteString("\n")
			}
		}
		texts = append(texts, b.String())
	}
	wraps := map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r },
		"bytes": iotest.OneByteReader,
		"half":  iotest.HalfReader,
	}
	for _, text := range texts {
		want := slices.Collect(splitDocuments(text))
		for name, wrap := range wraps {
			got, err := readDocs(text, wrap)
			if err != nil {
				t.Fatalf("%q (%s): %v", text, name, err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%q (%s):\n got %+v\nwant %+v", text, name, got, want)
			}
		}
	}
}

// FuzzReadDocs holds the reader's documents to splitDocuments'.
func FuzzReadDocs(f *testing.F) {
	for _, text := range splitTexts {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		want := slices.Collect(splitDocuments(text))
		got, err := readDocs(text, iotest.HalfReader)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", text, got, want)
		}
	})
}

// TestParseEachFromRefusesAChangedFile: a file that gives more or fewer
// bytes than its size when opened is refused, not read as it is now, and
// so is one over MaxStreamSize or in UTF-16. Guard: the size checks in
// docReader.docs.
func TestParseEachFromRefusesAChangedFile(t *testing.T) {
	text := compactSecrets(3)
	none := func(*Doc) bool { return false }
	for _, size := range []int{len(text) - 1, len(text) + 1, 0} {
		_, err := ParseEachFrom(strings.NewReader(text), int64(size), none, nil)
		if !errors.Is(err, ErrChanged) {
			t.Errorf("size %d of %d bytes: got %v, want it refused as changed", size, len(text), err)
		}
	}
	if _, err := ParseEachFrom(strings.NewReader(text), MaxStreamSize+1, none, nil); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("over MaxStreamSize: got %v", err)
	}
	utf16 := "\xff\xfea\x00"
	if _, err := ParseEachFrom(strings.NewReader(utf16), int64(len(utf16)), none, nil); !errors.Is(err, ErrEncoding) {
		t.Errorf("UTF-16: got %v, want ErrEncoding", err)
	}
}

// TestParseEachFromLetsGoOfSettledText: a stream read by ParseEachFrom
// is ParseEachTo's stream of the same text, and a document settled lets go
// of its text, so that the input is not held whole; the rendered stream
// is the same. Guard: Settle's own case (the document keeps its text).
func TestParseEachFromLetsGoOfSettledText(t *testing.T) {
	text := "# head\n---\n" + compactSecrets(200) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	want := func(d *Doc) bool { return d.Kind == KindSecret }
	var handed []*Doc
	emit := func(_ *Stream, d *Doc) error { handed = append(handed, d); return nil }
	s, err := ParseEachFrom(iotest.HalfReader(strings.NewReader(text)), int64(len(text)), want, emit)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := ParseEachTo(text, want, func(*Stream, *Doc) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Docs) != len(whole.Docs) || len(handed) != 200 {
		t.Fatalf("%d documents (%d handed on), read whole %d", len(s.Docs), len(handed), len(whole.Docs))
	}
	for i, d := range s.Docs {
		w := whole.Docs[i]
		if d.Text() != w.Text() || d.Line != w.Line || d.Kind != w.Kind || d.Object() != w.Object() {
			t.Fatalf("doc %d: %q line %d %v %q, read whole %q line %d %v %q", d.Index, d.Text(), d.Line, d.Kind, d.Object(), w.Text(), w.Line, w.Kind, w.Object())
		}
	}
	for _, d := range handed {
		if err := d.SetNamespace("other"); err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(d); err != nil {
			t.Fatal(err)
		}
		if d.raw != "" {
			t.Fatalf("doc %d: settled, and still holds its text", d.Index)
		}
	}
	got, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range whole.Docs {
		if d.Kind == KindSecret {
			if err := d.SetNamespace("other"); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantText, err := whole.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(wantText) {
		t.Fatalf("rendered:\n%s\nread whole:\n%s", got, wantText)
	}
	if !strings.HasPrefix(string(got), "# head\n---\n") || !strings.Contains(string(got), "kind: ConfigMap") {
		t.Fatalf("rendered without the documents passed through: %.200s", got)
	}
}

// TestParseEachFromRefusesEmptyFirst: an input of comments and bare
// separators alone is refused as empty before any other error, as the
// CLI refuses a text read whole before parsing it: even one of more
// separators than MaxDocuments, whose parse ends early. Guard: drain
// (without it, the document count is the error).
func TestParseEachFromRefusesEmptyFirst(t *testing.T) {
	none := func(*Doc) bool { return false }
	for name, text := range map[string]string{
		"nothing":    "",
		"comments":   "# a\n---\n  # b\n---",
		"separators": strings.Repeat("---\n", MaxDocuments+2),
	} {
		if _, err := ParseEachFrom(strings.NewReader(text), int64(len(text)), none, nil); !errors.Is(err, ErrEmpty) {
			t.Errorf("%s: got %v, want ErrEmpty", name, err)
		}
	}
	// A document after the separators: the count is the error.
	text := strings.Repeat("---\n", MaxDocuments+2) + "a: 1\n"
	if _, err := ParseEachFrom(strings.NewReader(text), int64(len(text)), none, nil); err == nil || errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("separators, then a document: got %v", err)
	}
}

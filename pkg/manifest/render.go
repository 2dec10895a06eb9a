package manifest

import (
	"bytes"
	"io"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Bytes renders the stream: unchanged documents verbatim, changed ones
// re-encoded.
func (s *Stream) Bytes() ([]byte, error) {
	if s.env != nil {
		return s.env.render(s.Docs[0])
	}
	r, err := s.Render()
	if err != nil {
		return nil, err
	}
	return r.Bytes(), nil
}

// Rendered is a rendered stream as the pieces it is made of (documents'
// text, separators), not yet joined: a writer writes them one after
// another, rather than a copy of them all in one buffer first (a sealed
// stream is several times its input).
type Rendered struct {
	parts []string
	size  int
}

// Len is the size of the rendered stream in bytes.
func (r Rendered) Len() int { return r.size }

// Bytes is the rendered stream in one buffer.
func (r Rendered) Bytes() []byte {
	out := make([]byte, 0, r.size)
	for _, p := range r.parts {
		out = append(out, p...)
	}
	return out
}

// Equal reports whether the rendered stream is text.
func (r Rendered) Equal(text string) bool {
	if r.size != len(text) {
		return false
	}
	for _, p := range r.parts {
		if text[:len(p)] != p {
			return false
		}
		text = text[len(p):]
	}
	return true
}

// EndsInNewline reports whether the rendered stream ends in a line break
// (or is empty).
func (r Rendered) EndsInNewline() bool {
	for i := len(r.parts) - 1; i >= 0; i-- {
		if p := r.parts[i]; p != "" {
			return p[len(p)-1] == '\n'
		}
	}
	return true
}

// WriteTo writes the rendered stream to w, piece by piece.
func (r Rendered) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, p := range r.parts {
		m, err := io.WriteString(w, p)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Render renders the stream as Bytes does, into its pieces.
func (s *Stream) Render() (Rendered, error) {
	if s.env != nil {
		b, err := s.env.render(s.Docs[0])
		return Rendered{parts: []string{string(b)}, size: len(b)}, err
	}
	r := Rendered{parts: make([]string, 0, 2*len(s.Docs))}
	add := func(p string) {
		r.parts = append(r.parts, p)
		r.size += len(p)
	}
	for _, d := range s.Docs {
		if d.isItem() {
			continue // written with its list
		}
		add(d.sep)
		if d.lst != nil && d.listChanged() {
			d.changed = true
		}
		if !d.changed {
			add(d.raw)
			continue
		}
		text, err := d.encode()
		if err != nil {
			return Rendered{}, err
		}
		if d.Index > 1 && d.sep == "" {
			add("---\n")
		}
		add(text)
	}
	return r, nil
}

func (d *Doc) encode() (string, error) {
	if d.settled {
		return d.out, nil
	}
	n := d.node
	if d.lst != nil && d.lst.node != nil { // a list, not an item of one
		n = d.lst.node
	}
	if isJSON(d.raw) {
		// JSON in, JSON out: jq must still read a rewritten file.
		b, err := NodeJSON(n.YNode())
		if err != nil {
			return "", d.errorf("", "encoding: %v", err)
		}
		return string(b), nil
	}
	text, err := encodeYAML(n.Document(), d.seqStyle(), true)
	if err != nil {
		return "", d.errorf("", "encoding: %v", err)
	}
	return text, nil
}

// encodeYAML writes n as YAML with sequence indent style seq. With fast,
// a simple tree is written by writeSimple (simpleyaml.go), and any other
// has its long scalars go through stand-ins (longscalars.go); both write
// the bytes yaml.v3 writes, which it does without fast.
func encodeYAML(n *yaml.Node, seq string, fast bool) (string, error) {
	if fast {
		if text, ok := writeSimple(n, seq); ok {
			return text, nil
		}
		if text, ok := encodeStandIns(n, seq); ok {
			return text, nil
		}
	}
	return encodeTree(n, seq)
}

// encodeStandIns is encodeYAML through stand-ins; false when n has no long
// scalar, or a stand-in did not come out exactly once.
func encodeStandIns(n *yaml.Node, seq string) (string, bool) {
	s := swapLongScalars(n)
	if s == nil {
		return "", false
	}
	text, err := encodeTree(n, seq)
	s.restore()
	if err != nil {
		return "", false
	}
	return s.fill(text)
}

// encodeTree is yaml.v3's encoding of n, as kyaml sets it up.
func encodeTree(n *yaml.Node, seq string) (string, error) {
	var buf bytes.Buffer
	if err := yaml.NewEncoderWithOptions(&buf, &yaml.EncoderOptions{SeqIndent: yaml.SequenceIndentStyle(seq)}).Encode(n); err != nil {
		return "", err
	}
	return buf.String(), nil
}

package manifest

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// A sealed document is mostly long base64 scalars (a hybrid wrap is about
// 2 KB of it), and yaml.v3's emitter looks at every byte of every scalar
// twice, to choose its style and to write it: about a tenth of a seal's
// CPU. For such a scalar both are foregone conclusions, so encodeYAML
// swaps it for a short stand-in of the same kind, encodes, and writes the
// value where the stand-in came out. A scalar qualifies only where the
// stand-in and the value make yaml.v3 take the same decisions, so that the
// bytes are those it would write:
//
//   - it is a value, never a mapping key: a key's length decides between
//     a simple key and a "? " one;
//   - it is 64 bytes or more of the base64 alphabet, the first a letter.
//     Then it resolves as a string, as the stand-in does (a letter first
//     rules out numbers, and no word with another tag is that long), so
//     the tag is written or left out, and the value quoted or not, alike;
//     it has no space or line break (where yaml.v3 would break or fold a
//     line), no indicator, and nothing to escape in any quoting style.
//
// yaml.v3 v3.0.5 writes with no line width, so no line break depends on a
// value's length (the flow-collection cases of the tests would fail if a
// later version set one). The stand-in is "kseal", a random nonce drawn
// once per process and an index; encodeYAML checks that each comes out exactly once and otherwise
// encodes the tree as it is. TestLongScalarsEncodeAsYAMLDoes and
// FuzzLongScalars compare with yaml.v3 itself.
const longScalarMin = 64

// longScalar reports whether n, a value, qualifies.
func longScalar(n *yaml.Node) bool {
	v := n.Value
	if n.Kind != yaml.ScalarNode || len(v) < longScalarMin || !('A' <= v[0] && v[0] <= 'Z' || 'a' <= v[0] && v[0] <= 'z') {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !base64Alphabet[v[i]] {
			return false
		}
	}
	return true
}

// base64Alphabet holds the bytes of standard base64 and its padding.
var base64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()

// standIns holds the long scalars of one tree while it is encoded.
type standIns struct {
	nodes  []*yaml.Node
	values []string // the values, for restore and fill
	names  []string // the stand-ins, in the same order
}

// standInNonce starts every stand-in of this process: random, so that no
// input can hold one on purpose (and fill's count check covers one by
// chance).
var standInNonce = sync.OnceValue(func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "kseal" + hex.EncodeToString(b[:]) + "x"
})

// swapLongScalars replaces the values of n's long scalars with stand-ins;
// nil when it has none.
func swapLongScalars(n *yaml.Node) *standIns {
	s := &standIns{}
	s.walk(n)
	if len(s.nodes) == 0 {
		return nil
	}
	return s
}

func (s *standIns) walk(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			s.walk(c)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			s.value(n.Content[i])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			s.value(c)
		}
	}
}

func (s *standIns) value(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode {
		s.walk(n)
		return
	}
	if !longScalar(n) {
		return
	}
	name := standInNonce() + strconv.Itoa(len(s.nodes)) + "x"
	s.nodes = append(s.nodes, n)
	s.values = append(s.values, n.Value)
	s.names = append(s.names, name)
	n.Value = name
}

// restore puts the values back in the tree.
func (s *standIns) restore() {
	for i, n := range s.nodes {
		n.Value = s.values[i]
	}
}

// fill writes the values into text where their stand-ins are; ok is false
// unless each stand-in is there exactly once.
func (s *standIns) fill(text string) (string, bool) {
	nonce := standInNonce()
	if strings.Count(text, nonce) != len(s.nodes) {
		return "", false
	}
	size := len(text)
	for i, v := range s.values {
		size += len(v) - len(s.names[i])
	}
	var b strings.Builder
	b.Grow(size)
	seen := make([]bool, len(s.nodes))
	for {
		i := strings.Index(text, nonce)
		if i < 0 {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:i])
		rest := text[i+len(nonce):]
		end := strings.IndexByte(rest, 'x')
		k, err := strconv.Atoi(rest[:max(end, 0)])
		if end < 0 || err != nil || k < 0 || k >= len(s.nodes) || seen[k] {
			return "", false
		}
		seen[k] = true
		b.WriteString(s.values[k])
		text = rest[end+1:]
	}
	return b.String(), true
}

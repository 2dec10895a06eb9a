package manifest

import (
	"encoding/json"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// simpleJSON renders n as nodeObjectJSON's general path would (yaml.v3's
// Decode into Go values, then encoding/json), for the trees kseal writes:
// mappings with string keys, sequences, strings, decimal integers and
// true or false. It says false for anything else (an anchor or alias, a
// null, a float, a date, a binary, a repeated key, another spelling of a
// number or boolean), which the general path then handles. Reading an
// envelope this way skips building a map of interfaces per object.
// FuzzNodeObjectJSON holds it to the general path byte for byte.
func simpleJSON(n *yaml.Node) ([]byte, bool) {
	b := make([]byte, 0, 1024)
	b, ok := appendSimple(b, n, 0)
	return b, ok
}

// maxSimpleDepth bounds the recursion; deeper trees take the general path.
const maxSimpleDepth = 16

func appendSimple(b []byte, n *yaml.Node, depth int) ([]byte, bool) {
	if n.Anchor != "" || depth > maxSimpleDepth {
		return b, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		return appendSimpleMap(b, n, depth)
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendSimple(b, c, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case yaml.NodeTagString:
			return appendJSONString(b, n.Value), true
		case yaml.NodeTagInt:
			if decimal(n.Value) {
				return append(b, n.Value...), true
			}
		case yaml.NodeTagBool:
			if n.Value == "true" || n.Value == "false" {
				return append(b, n.Value...), true
			}
		}
	}
	return b, false
}

// appendSimpleMap writes a mapping's entries sorted by key, as
// encoding/json writes a map.
func appendSimpleMap(b []byte, n *yaml.Node, depth int) ([]byte, bool) {
	keys := make([]int, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind != yaml.ScalarNode || k.Anchor != "" || k.ShortTag() != yaml.NodeTagString {
			return b, false
		}
		keys = append(keys, i)
	}
	slices.SortFunc(keys, func(x, y int) int { return strings.Compare(n.Content[x].Value, n.Content[y].Value) })
	b = append(b, '{')
	for j, i := range keys {
		if j > 0 {
			if n.Content[keys[j-1]].Value == n.Content[i].Value {
				return b, false // a repeated key: the general path refuses it
			}
			b = append(b, ',')
		}
		b = appendJSONString(b, n.Content[i].Value)
		b = append(b, ':')
		var ok bool
		if b, ok = appendSimple(b, n.Content[i+1], depth+1); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// decimal: a canonical decimal integer that fits an int64, which Decode
// and encoding/json write back unchanged.
func decimal(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 18 || (d[0] == '0' && len(d) > 1) || (d == "0" && s != d) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// appendJSONString writes s as encoding/json does: plain when it is
// printable ASCII that needs no escape (HTML's <, > and & included),
// through encoding/json otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// jsonNode builds the YAML tree of a JSON text directly from its tokens,
// keys in document order: the tree yaml.Parse would give for the same
// text (JSON is YAML), with the tags it would resolve, without rendering
// and re-scanning the text. Styles are left plain (block); the encoder
// quotes what needs quoting. Sealing builds one envelope per object, so
// this is on the hot path of `kseal seal`: the text is what json.Marshal
// wrote for the envelope, and it is scanned here in one pass (a string
// without escapes, such as a wrap's base64, is taken as it stands), where
// encoding/json's Decoder.Token cost about 8% of a seal. FuzzJSONNode
// holds it to yaml.Parse.
func jsonNode(j []byte) (*yaml.Node, error) {
	s := &jsonScanner{b: j}
	n, err := s.value(0)
	if err != nil {
		return nil, err
	}
	if s.space(); s.i != len(s.b) {
		return nil, errors.New("trailing data after JSON value")
	}
	return n, nil
}

// jsonMaxDepth bounds jsonScanner's recursion as encoding/json bounds its
// own; envelopes nest four deep.
const jsonMaxDepth = 10000

// jsonScanner reads one JSON value from b at i.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// expect consumes c after white space.
func (s *jsonScanner) expect(c byte) error {
	if s.space(); s.i >= len(s.b) || s.b[s.i] != c {
		return fmt.Errorf("JSON: want %q at offset %d", c, s.i)
	}
	s.i++
	return nil
}

// more reports whether another element follows in the object or array
// closed by end, consuming the comma or end.
func (s *jsonScanner) more(end byte, first bool) (bool, error) {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		return false, nil
	}
	if first {
		return true, nil
	}
	return true, s.expect(',')
}

func (s *jsonScanner) value(depth int) (*yaml.Node, error) {
	if depth > jsonMaxDepth {
		return nil, errors.New("JSON: nested too deeply")
	}
	if s.space(); s.i >= len(s.b) {
		return nil, errors.New("JSON: unexpected end")
	}
	switch c := s.b[s.i]; c {
	case '{':
		s.i++
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		for first := true; ; first = false {
			more, err := s.more('}', first)
			if err != nil || !more {
				return n, err
			}
			if s.space(); s.i >= len(s.b) || s.b[s.i] != '"' {
				return nil, fmt.Errorf("JSON: object key at offset %d is not a string", s.i)
			}
			k, err := s.str()
			if err != nil {
				return nil, err
			}
			if err := s.expect(':'); err != nil {
				return nil, err
			}
			v, err := s.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: k}, v)
		}
	case '[':
		s.i++
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for first := true; ; first = false {
			more, err := s.more(']', first)
			if err != nil || !more {
				return n, err
			}
			v, err := s.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
	case '"':
		v, err := s.str()
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: v}, err
	case 't', 'f', 'n':
		for _, lit := range []struct{ text, tag string }{{"true", yaml.NodeTagBool}, {"false", yaml.NodeTagBool}, {"null", yaml.NodeTagNull}} {
			if bytes.HasPrefix(s.b[s.i:], []byte(lit.text)) {
				s.i += len(lit.text)
				return &yaml.Node{Kind: yaml.ScalarNode, Tag: lit.tag, Value: lit.text}, nil
			}
		}
	default:
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("+-0123456789.eE", s.b[s.i]) >= 0 {
			s.i++
		}
		num := s.b[start:s.i]
		if len(num) == 0 || !json.Valid(num) {
			break
		}
		tag := yaml.NodeTagInt
		if bytes.ContainsAny(num, ".eE") {
			tag = yaml.NodeTagFloat
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(num)}, nil
	}
	return nil, fmt.Errorf("JSON: invalid value at offset %d", s.i)
}

// str reads the string at i (which starts with its quote). One without a
// backslash is its own bytes; any other goes through encoding/json.
func (s *jsonScanner) str() (string, error) {
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '\\':
			escaped = true
			s.i += 2
			continue
		case c == '"':
			s.i++
			raw := s.b[start:s.i]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return "", err
			}
			return v, nil
		case c < 0x20:
			return "", fmt.Errorf("JSON: control character in string at offset %d", s.i)
		}
		s.i++
	}
	return "", errors.New("JSON: unterminated string")
}

// nodeObjectJSON renders a mapping or sequence node as JSON exactly as
// kyaml's RNode.MarshalJSON does (the node decoded by yaml.v3 into Go
// values, then encoding/json: keys sorted, numbers and booleans as YAML
// resolved them, a repeated key an error), but decodes the node in place
// where MarshalJSON renders it as YAML text and parses that text again.
// One difference, on the strict side: a key that is not a string (null,
// a number, a tag) is refused. Through the text, MarshalJSON would have
// turned it into some string ("" for null) that is no envelope field, so
// crypto.Parse refused it; decoded in place, a null key would vanish.
func nodeObjectJSON(n *yaml.Node) ([]byte, error) {
	if err := stringKeys(n); err != nil {
		return nil, err
	}
	if b, ok := simpleJSON(n); ok {
		return b, nil
	}
	return decodedJSON(n)
}

// decodedJSON is nodeObjectJSON's general path.
func decodedJSON(n *yaml.Node) ([]byte, error) {
	if n.Kind == yaml.SequenceNode {
		var a []any
		if err := n.Decode(&a); err != nil {
			return nil, err
		}
		return json.Marshal(a)
	}
	m := map[string]any{}
	if err := n.Decode(&m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// errKeyNotString: a mapping key of an envelope that is not a string.
var errKeyNotString = errors.New("keys must be strings")

func stringKeys(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind != yaml.ScalarNode || k.Tag != yaml.NodeTagString {
				return fmt.Errorf("line %d: %w", k.Line, errKeyNotString)
			}
		}
	}
	for _, c := range n.Content {
		if err := stringKeys(c); err != nil {
			return err
		}
	}
	return nil
}

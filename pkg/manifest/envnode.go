package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// jsonNode builds the YAML tree of a JSON text directly from its tokens,
// keys in document order: the tree yaml.Parse would give for the same
// text (JSON is YAML), with the tags it would resolve, without rendering
// and re-scanning the text. Styles are left plain (block); the encoder
// quotes what needs quoting. Sealing builds one envelope per object, so
// this is on the hot path of `kseal seal`.
func jsonNode(j []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	n, err := jsonValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data after JSON value")
	}
	return n, nil
}

func jsonValue(dec *json.Decoder) (*yaml.Node, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := k.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", k)
				}
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: ks}, v)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
			for dec.More() {
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: t}, nil
	case json.Number:
		tag := yaml.NodeTagInt
		if strings.ContainsAny(string(t), ".eE") {
			tag = yaml.NodeTagFloat
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t)}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: v}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %T", t)
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

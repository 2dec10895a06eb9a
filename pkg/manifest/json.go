package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// isJSON reports whether a document's text is JSON (an object), so that a
// rewritten document stays JSON: jq and JSON tooling must still read it.
func isJSON(raw string) bool {
	for _, l := range strings.Split(raw, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		return strings.HasPrefix(l, "{")
	}
	return false
}

// ErrAlias is returned when a document to convert holds an alias: kseal
// does not expand them (no billion laughs).
var ErrAlias = errors.New("anchors and aliases are not supported when converting to JSON")

// NodeJSON renders a YAML node as indented JSON, keys in document order.
func NodeJSON(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, n); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, n.Content[0])
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a key that is not a string cannot be written as JSON", k.Line)
			}
			kb, _ := json.Marshal(k.Value)
			b.Write(kb)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			b.WriteString("null")
			return nil
		case "!!bool":
			if v, err := strconv.ParseBool(n.Value); err == nil {
				b.WriteString(strconv.FormatBool(v))
				return nil
			}
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				b.WriteString(n.Value)
				return nil
			}
		}
		vb, _ := json.Marshal(n.Value)
		b.Write(vb)
	default:
		return fmt.Errorf("line %d: %w", n.Line, ErrAlias)
	}
	return nil
}

// DocumentsJSON renders every document of a YAML stream as JSON: one
// document as itself, several as a v1 List holding them (as kubectl -o
// json prints several objects). Empty documents are dropped.
func DocumentsJSON(data []byte) ([]byte, error) {
	nodes, err := documents(data)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 1 {
		return NodeJSON(nodes[0])
	}
	list := &yaml.Node{Kind: yaml.MappingNode}
	items := &yaml.Node{Kind: yaml.SequenceNode}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	list.Content = append(list.Content, str("apiVersion"), str("v1"), str("kind"), str("List"), str("items"), items)
	items.Content = nodes
	return NodeJSON(list)
}

// DocumentsYAML renders every document of a YAML stream (JSON included)
// as block-style YAML separated by "---".
func DocumentsYAML(data []byte) ([]byte, error) {
	nodes, err := documents(data)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, n := range nodes {
		if i > 0 {
			out.WriteString("---\n")
		}
		blockAll(n)
		enc := yaml.NewEncoder(&out)
		if err := enc.Encode(n); err != nil {
			return nil, err
		}
		enc.Close()
	}
	return out.Bytes(), nil
}

func blockAll(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style &^= yaml.FlowStyle
	}
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle) != 0 && !strings.ContainsAny(n.Value, "\n") {
		n.Style &^= yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockAll(c)
	}
}

func documents(data []byte) ([]*yaml.Node, error) {
	// The same bounds as Parse, checked on the event stream before any
	// tree is built: converting pass-through documents must not undo
	// them.
	if len(data) > MaxStreamSize {
		return nil, budgetError(len(data))
	}
	sum, err := yamlevents.Summarize(data)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %s", redactQuoted(err.Error()))
	}
	if sum.Aliases > 0 {
		return nil, ErrAlias
	}
	if budget := nodeBudget(len(data)); sum.Nodes > budget {
		return nil, fmt.Errorf("%d YAML nodes, more than the %d kseal converts for %d bytes", sum.Nodes, budget, len(data))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var nodes []*yaml.Node
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nodes, nil
		}
		if err != nil {
			return nil, fmt.Errorf("doc %d: %s", i, redactQuoted(err.Error()))
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].ShortTag() == "!!null") {
			continue
		}
		if hasAlias(n.Content[0]) {
			return nil, fmt.Errorf("doc %d: %w", i, ErrAlias)
		}
		nodes = append(nodes, n.Content[0])
	}
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

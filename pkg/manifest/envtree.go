package manifest

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
)

// envelopeTree builds the tree jsonNode reads from json.Marshal(env):
// fields in struct order under their JSON names, omitempty fields left out
// when empty, nil slices and byte slices as null, byte slices as base64,
// integers as !!int. Marshalling to JSON and scanning it back cost a
// twentieth of a seal. False when a string is not valid UTF-8, which
// encoding/json would change; TestEnvelopeTreeIsJSONNodes compares.
func envelopeTree(env *crypto.Envelope) (*yaml.Node, bool) {
	b := envTree{ok: true}
	m := b.mapping()
	b.field(m, "version", b.int(env.Version))
	b.field(m, "scope", b.str(string(env.Scope)))
	if f := env.SealedFor; f != nil {
		sf := b.mapping()
		if f.Namespace != "" {
			b.field(sf, "namespace", b.str(f.Namespace))
		}
		if f.Name != "" {
			b.field(sf, "name", b.str(f.Name))
		}
		b.field(sf, "template", b.bytes(f.Template))
		b.field(m, "sealedFor", sf)
	}
	var sections *yaml.Node
	if env.Sections != nil {
		sections = &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for _, sec := range env.Sections {
			sections.Content = append(sections.Content, b.section(sec))
		}
	}
	b.field(m, "sections", b.orNull(sections))
	return m, b.ok
}

type envTree struct{ ok bool }

func (b *envTree) section(sec crypto.Section) *yaml.Node {
	n := b.mapping()
	var rs *yaml.Node
	if sec.Recipients != nil {
		rs = &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for _, w := range sec.Recipients {
			r := b.mapping()
			b.field(r, "type", b.str(w.Type))
			b.field(r, "keyID", b.str(w.KeyID))
			b.field(r, "data", b.bytes(w.Data))
			rs.Content = append(rs.Content, r)
		}
	}
	b.field(n, "recipients", b.orNull(rs))
	if len(sec.Removed) > 0 {
		rm := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for _, r := range sec.Removed {
			x := b.mapping()
			b.field(x, "field", b.str(r.Field))
			b.field(x, "section", b.int(r.Section))
			b.field(x, "digest", b.bytes(r.Digest))
			rm.Content = append(rm.Content, x)
		}
		b.field(n, "removed", rm)
	}
	b.field(n, "mac", b.bytes(sec.MAC))
	return n
}

func (b *envTree) mapping() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
}

func (b *envTree) field(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: key}, v)
}

func (b *envTree) str(s string) *yaml.Node {
	if !utf8.ValidString(s) {
		b.ok = false
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}
}

func (b *envTree) int(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: strconv.Itoa(i)}
}

func (b *envTree) bytes(p []byte) *yaml.Node {
	if p == nil {
		return b.orNull(nil)
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: base64.StdEncoding.EncodeToString(p)}
}

// orNull is n, or JSON's null for a nil slice.
func (b *envTree) orNull(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}
	}
	return n
}

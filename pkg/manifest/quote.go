package manifest

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kyaml's FieldSetter double-quotes a string that YAML 1.1 (kubectl's
// reader) would take for another type ("yes", "0x10"), so that kubectl
// reads back the string kseal wrote. It finds out by parsing the string
// with a whole YAML 1.1 parser: about a tenth of a millisecond a value,
// the cost of `kseal decrypt` writing names and namespaces. plainWord
// answers the same question without a parser for the words that names
// are made of, and yaml.IsValueNonString answers it for everything else.

// yaml11Words are the plain scalars starting with a letter that YAML 1.1
// resolves to a boolean or null (go-yaml v2's resolve table, which also
// has "Yes", "YES", "True" and the like), lower case: plainWord looks a
// word up lower-cased, which refuses every casing of them (and a few,
// such as "yEs", that are strings after all: those ask the parser).
var yaml11Words = map[string]bool{
	"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true,
}

// plainWord reports whether s is certainly read as that very string by
// YAML 1.1 and 1.2 alike, written plain: a letter, then letters, digits,
// '-', '.' and '/', and not one of yaml11Words in any casing. A plain scalar
// starting with a letter resolves to something other than a string only
// as one of those words (go-yaml v2's resolve: a letter is no hint of a
// number or timestamp), and none of these characters is YAML syntax in
// that position. false means "ask the parser", not "not a string".
// Kinds ("Secret"), apiVersions ("kseal.dev/v1alpha1", set on every
// object sealed) and most names take this path.
func plainWord(s string) bool {
	if s == "" || !letter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !letter(c) && (c < '0' || c > '9') && c != '-' && c != '.' && c != '/' {
			return false
		}
	}
	return len(s) > 5 || !yaml11Words[strings.ToLower(s)]
}

func letter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// stringNode is the node kyaml's SetField would store for the string s in
// a field that does not exist yet: tagged !!str, and double-quoted when
// YAML 1.1 would read it as another type.
func stringNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode}
	n.SetString(s)
	if !plainWord(s) && yaml.IsValueNonString(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// appendString adds the field key: s to the mapping m, which must not hold
// key, as yaml.SetField(key, yaml.NewStringRNode(s)) does, without its
// YAML 1.1 parse of s when plainWord settles it.
func appendString(m *yaml.RNode, key, s string) {
	m.YNode().Content = append(m.YNode().Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, stringNode(s))
}

// setString sets the field key of the mapping m to s, as SetField with a
// string node does (the value node replaced in place, or the field
// added), without kyaml's YAML 1.1 parse of s on every call: apiVersion
// and kind are set once per object written.
func setString(m *yaml.RNode, key, s string) {
	c := m.YNode().Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value == key {
			*c[i+1] = *stringNode(s)
			return
		}
	}
	appendString(m, key, s)
}

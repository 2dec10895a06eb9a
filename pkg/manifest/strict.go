package manifest

import (
	"fmt"
	"regexp"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// checkStrict refuses what makes kseal and the API server's decoder (used
// by kubectl) read one document differently: a key given twice (kseal's
// accessors see the first, kubectl the last), merge keys (`<<`, which
// kubectl applies and kseal would not), and anchors and aliases. A Secret
// or SealedSecret needs none of them, and with them a git writer could make
// `kseal decrypt | kubectl apply` apply something other than what kseal
// verified: another namespace, another value, another kind.
func checkStrict(n *yaml.Node, path string) error {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return fmt.Errorf("%s: anchors and aliases are not supported in Secrets", orTop(path))
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			if err := checkStrict(c, p); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: keys must be strings", orTop(path))
			}
			p := joinField(path, k.Value)
			if k.Tag == "!!merge" || k.Value == "<<" {
				return fmt.Errorf("%s: merge keys (<<) are not supported in Secrets", p)
			}
			if seen[k.Value] {
				return fmt.Errorf("%s: key given twice", p)
			}
			seen[k.Value] = true
			if err := checkStrict(n.Content[i+1], p); err != nil {
				return err
			}
		}
	}
	return nil
}

// quoted matches what YAML parser messages quote from their input: a token,
// an anchor name, a scalar. Any of it may be a secret value.
var quoted = regexp.MustCompile("'[^']{2,}'|`[^`]{2,}`|\"[^\"]{2,}\"")

// redactQuoted removes quoted input from a parser message, keeping its
// position and what went wrong ("yaml: unknown anchor 'S3cret' referenced"
// would print a password typed unquoted after a '*').
func redactQuoted(msg string) string {
	return quoted.ReplaceAllString(msg, "(…)")
}

func joinField(path, f string) string {
	if path == "" {
		return f
	}
	return path + "." + f
}

func orTop(path string) string {
	if path == "" {
		return "document"
	}
	return path
}

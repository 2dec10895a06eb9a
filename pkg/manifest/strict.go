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
	var steps [8]pathStep // one allocation, deep enough for a Secret
	c := strictCheck{top: path, steps: steps[:0]}
	return c.check(n)
}

// strictCheck is checkStrict's walk, which keeps where it is as a stack
// of steps and builds the path from them only for an error: a Secret has
// some 20 keys, and building each one's path was an allocation.
type strictCheck struct {
	top   string // the path checkStrict was given
	steps []pathStep
}

// pathStep is a key of a mapping, or an item of a sequence.
type pathStep struct {
	key   string
	index int
	item  bool
}

func (c *strictCheck) check(n *yaml.Node) error {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return fmt.Errorf("%s: anchors and aliases are not supported in Secrets", orTop(c.path()))
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, k := range n.Content {
			if err := c.check(k); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, k := range n.Content {
			if err := c.under(pathStep{index: i, item: true}, k); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		var seen map[string]bool // a long mapping's keys; a short one's are compared
		if len(n.Content) > 2*shortMapping {
			seen = make(map[string]bool, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: keys must be strings", orTop(c.path()))
			}
			step := pathStep{key: k.Value}
			if k.Tag == "!!merge" || k.Value == "<<" {
				return fmt.Errorf("%s: merge keys (<<) are not supported in Secrets", c.pathTo(step))
			}
			if keyBefore(n, i, seen) {
				return fmt.Errorf("%s: key given twice", c.pathTo(step))
			}
			if err := c.under(step, n.Content[i+1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// under checks n, which is at step from where c is.
func (c *strictCheck) under(step pathStep, n *yaml.Node) error {
	c.steps = append(c.steps, step)
	err := c.check(n)
	c.steps = c.steps[:len(c.steps)-1]
	return err
}

// path is where c is, as checkStrict's messages give it: keys joined
// with ".", items as "[i]", after the path it was given.
func (c *strictCheck) path() string {
	p := c.top
	for _, s := range c.steps {
		if s.item {
			p = fmt.Sprintf("%s[%d]", p, s.index)
		} else {
			p = joinField(p, s.key)
		}
	}
	return p
}

// pathTo is the path of step from where c is.
func (c *strictCheck) pathTo(step pathStep) string {
	c.steps = append(c.steps, step)
	p := c.path()
	c.steps = c.steps[:len(c.steps)-1]
	return p
}

// shortMapping: up to this many keys, a mapping's keys are compared
// with each other rather than put in a map.
const shortMapping = 16

// keyBefore reports whether the mapping n's key at i (a scalar) is one of
// its keys before i: the keys are in seen when it is not nil (and the
// key is added), else they are compared.
func keyBefore(n *yaml.Node, i int, seen map[string]bool) bool {
	k := n.Content[i].Value
	if seen != nil {
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	}
	for j := 0; j < i; j += 2 {
		if n.Content[j].Value == k {
			return true
		}
	}
	return false
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

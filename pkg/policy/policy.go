// Package policy reads kseal.yaml: which services own which namespaces and
// repository paths, which keys their secrets are sealed to, who may seal and
// read them outside the cluster, and which secrets several services share on
// purpose. The CLI and the controller enforce it; `kseal policy render`
// turns it into cloud KMS IAM policy. docs/policy.md is the reference.
//
// Stability: the kseal.yaml format (docs/policy.md, docs/policy.schema.json)
// is what kseal keeps stable; this package's Go API serves kseal's own
// binaries and may change in any release before v1.0.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"kseal.dev/kseal/pkg/keys"
)

// FileName is the policy file name, found upward from the file being sealed.
const FileName = "kseal.yaml"

// Policy is a parsed, validated kseal.yaml.
type Policy struct {
	APIVersion string              `yaml:"apiVersion"`
	Kind       string              `yaml:"kind"`
	Clusters   map[string]*Cluster `yaml:"clusters"`
	Keys       map[string]*Key     `yaml:"keys"`
	Services   map[string]*Service `yaml:"services"`
	Shared     []*Shared           `yaml:"shared"`
	// Exclude lists globs, relative to kseal.yaml, of files that
	// `kseal policy check` does not read: Helm chart templates, kustomize
	// patches and other files that are not manifests as they stand.
	Exclude []string `yaml:"exclude"`

	// Path is the file it was read from; Dir is its directory, the root that
	// service paths are relative to.
	Path string `yaml:"-"`
	Dir  string `yaml:"-"`

	lines     map[string]int // "services.orders" → line, for messages
	inCluster bool           // recipient files are not at hand (controller)
}

// Cluster is a cluster running kseal-controller.
type Cluster struct {
	// RecipientsFile holds the cluster's active recipients, newest first
	// (kseal fetch-recipients --all -o FILE), relative to the policy. It is
	// read only if it is a regular file of at most MaxRecipientsFile bytes
	// inside the policy's directory tree (links resolved).
	RecipientsFile string `yaml:"recipientsFile"`
	// Identities are the controller's identities at key services (an IAM
	// role ARN, a GCP service account member, …); `kseal policy render`
	// grants them unwrap. Providers may register older spellings of one
	// entry (keys.IdentityAlias: awsRole, gcpServiceAccount); they land
	// here too.
	Identities []string `yaml:"identities"`

	recipients []keys.Recipient // parsed from RecipientsFile, newest first
}

// UnmarshalYAML reads a cluster, with the providers' identity aliases.
func (c *Cluster) UnmarshalYAML(n *yaml.Node) error {
	type plain Cluster
	var known plain
	rest, err := splitAliases(n, "policy.Cluster", []string{"identities", "recipientsFile"}, keys.LookupIdentityAlias)
	if err != nil {
		return err
	}
	if err := n.Decode(&known); err != nil {
		return err
	}
	*c = Cluster(known)
	for _, a := range rest {
		alias, _ := keys.LookupIdentityAlias(a.field)
		c.Identities = append(c.Identities, alias.Identity(a.value))
	}
	return nil
}

// Key is a named key: exactly one of cluster and recipient is set.
// Recipient takes any registered provider's recipient string; providers
// may register older spellings (keys.KeyAlias: age, awsKms, gcpKms) kept
// for existing policies, which set Recipient.
type Key struct {
	Cluster   string `yaml:"cluster"`
	Recipient string `yaml:"recipient"`

	set    int            // how many of cluster, recipient and aliases are set
	parsed keys.Recipient // parsed by validation (not set for cluster keys)
}

// UnmarshalYAML reads a key, with the providers' recipient aliases.
func (k *Key) UnmarshalYAML(n *yaml.Node) error {
	type plain Key
	var known plain
	rest, err := splitAliases(n, "policy.Key", []string{"cluster", "recipient"}, keys.LookupKeyAlias)
	if err != nil {
		return err
	}
	if err := n.Decode(&known); err != nil {
		return err
	}
	*k = Key(known)
	for _, v := range []string{k.Cluster, k.Recipient} {
		if v != "" {
			k.set++
		}
	}
	for _, a := range rest {
		alias, _ := keys.LookupKeyAlias(a.field)
		k.Recipient = alias.Recipient(a.value)
		k.set++
	}
	return nil
}

type aliasField struct{ field, value string }

// splitAliases takes the alias fields out of the mapping n (leaving the
// fields own to be decoded strictly) and returns them; a field that is
// neither own nor an alias is refused as the strict decoder refuses one.
func splitAliases[A any](n *yaml.Node, typ string, own []string, lookup func(string) (A, bool)) ([]aliasField, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil // the decoder names the type error
	}
	var rest []aliasField
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if slices.Contains(own, key.Value) {
			kept = append(kept, key, val)
			continue
		}
		if _, ok := lookup(key.Value); !ok {
			return nil, fmt.Errorf("line %d: field %s not found in type %s", key.Line, key.Value, typ)
		}
		if val.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: %s must be a string", val.Line, key.Value)
		}
		if val.Value != "" {
			rest = append(rest, aliasField{key.Value, val.Value})
		}
	}
	n.Content = kept
	return rest, nil
}

// Service is a team's application.
type Service struct {
	Namespaces      []string `yaml:"namespaces"`
	ServiceAccounts []string `yaml:"serviceAccounts"`
	Paths           []string `yaml:"paths"`
	Keys            []string `yaml:"keys"`
	Writers         []string `yaml:"writers"`
	Readers         []string `yaml:"readers"`
	// AllowTokenTypes lists the TokenTypes the service's templates may
	// use; they are refused otherwise.
	AllowTokenTypes []string `yaml:"allowTokenTypes"`
	// AllowAnnotations and DenyAnnotations are annotation prefixes the
	// service's templates may or may not set, on top of
	// DefaultDeniedAnnotations; the longest matching prefix decides.
	AllowAnnotations []string `yaml:"allowAnnotations"`
	DenyAnnotations  []string `yaml:"denyAnnotations"`
	// Providers holds per-provider settings of the service (the identity
	// it has at a key service, …), checked by the provider that registered
	// its name (keys.Provider.ServiceSettings) and handed to renderers.
	Providers map[string]map[string]string `yaml:"providers"`
}

// Shared is a secret sealed once and allowed in the namespaces of several
// services.
type Shared struct {
	Name     string   `yaml:"name"`
	Services []string `yaml:"services"`
	Keys     []string `yaml:"keys"`
	Paths    []string `yaml:"paths"`
}

// Error is a policy problem with its line.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Load reads and validates the policy at path.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path)
}

// Find looks for kseal.yaml in dir and its parents. It returns "" when there
// is none.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, FileName)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// Parse parses and validates a policy. Cluster recipient files are read
// relative to path.
func Parse(b []byte, path string) (*Policy, error) { return parse(b, path, false) }

// ParseInCluster parses a policy as the controller does: from a ConfigMap,
// without the cluster recipient files (a controller knows its own keys).
func ParseInCluster(b []byte, name string) (*Policy, error) { return parse(b, name, true) }

func parse(b []byte, path string, inCluster bool) (*Policy, error) {
	p := &Policy{Path: path, Dir: filepath.Dir(path), lines: map[string]int{}, inCluster: inCluster}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, &Error{Path: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	// The policy file is not read as a manifest: a Secret in a second
	// document would be applied by kubectl and checked by nobody.
	for {
		var more yaml.Node
		err := dec.Decode(&more)
		if errors.Is(err, io.EOF) {
			break
		}
		// An empty document (a trailing "---") holds nothing to hide.
		if err != nil || !emptyDocument(&more) {
			return nil, &Error{Path: path, Line: more.Line, Msg: "holds more than one YAML document; kseal.yaml must hold the policy alone"}
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err == nil && len(root.Content) > 0 {
		recordLines(root.Content[0], "", p.lines)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// emptyDocument reports whether n, a decoded document, holds nothing (or
// only null).
func emptyDocument(n *yaml.Node) bool {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n.Kind == 0 || (n.Kind == yaml.DocumentNode && len(n.Content) == 0) || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func recordLines(n *yaml.Node, prefix string, out map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := prefix + n.Content[i].Value
			out[k] = n.Content[i].Line
			recordLines(n.Content[i+1], k+".", out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			k := fmt.Sprintf("%s%d", prefix, i)
			out[k] = c.Line
			recordLines(c, k+".", out)
		}
	}
}

func (p *Policy) errAt(at, format string, a ...any) error {
	return &Error{Path: p.Path, Line: p.lines[at], Msg: fmt.Sprintf(format, a...)}
}

func (p *Policy) checkKeyRefs(at string, names []string) []error {
	var errs []error
	for i, k := range names {
		if _, ok := p.Keys[k]; !ok {
			errs = append(errs, p.errAt(fmt.Sprintf("%s.%d", at, i), "unknown key %q", k))
		}
	}
	return errs
}

// globsOverlap reports whether some path could match both globs: either
// matches the other taken literally, or they share a literal prefix up to
// their first wildcard and one is a subtree of the other.
func globsOverlap(a, b string) bool {
	if ok, _ := doublestar.Match(a, b); ok {
		return true
	}
	if ok, _ := doublestar.Match(b, a); ok {
		return true
	}
	pa, pb := literalPrefix(a), literalPrefix(b)
	return (strings.HasPrefix(pa, pb) && strings.HasSuffix(b, "**")) || (strings.HasPrefix(pb, pa) && strings.HasSuffix(a, "**"))
}

func literalPrefix(g string) string {
	if i := strings.IndexAny(g, "*?[{"); i >= 0 {
		return g[:i]
	}
	return g
}

// RecipientString is the key's recipient as ParseRecipient takes it
// (aliases resolved), or "" for a cluster key.
func (k *Key) RecipientString() string { return k.Recipient }

// Parsed returns the key's recipient, or nil for a cluster key.
func (k *Key) Parsed() keys.Recipient { return k.parsed }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

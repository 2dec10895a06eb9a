package manifest

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// A dotenv file holds one Secret's values as KEY=VALUE lines, read the way
// kubectl create secret --from-env-file and kustomize's secretGenerator
// (envs:) read them. A sealed dotenv is that Secret sealed in place: an
// encrypted Secret written as a dotenv (docs/format.md, "Sealed dotenv"),
// whose first line names the Secret its values are bound to and whose last
// line holds the envelope:
//
//	#kseal.dev/secret=shop/app
//	DB_PASSWORD=<base64 value>
//	#kseal.dev/envelope={"version":2,...}
//
// ParseDotenv reads either into a Stream of one document (a plain Secret,
// or an encrypted one), so every command that works on manifests works on
// it, and Stream.Bytes writes it back as a dotenv. Both kseal lines are
// comments to kubectl and kustomize: a sealed dotenv handed to kustomize's
// own secretGenerator by mistake gives a Secret of ciphertexts, never
// anything else.

// The kseal lines of a sealed dotenv, each written exactly so (no leading
// space) and at most once.
const (
	DotenvSecretPrefix   = "#kseal.dev/secret="
	DotenvEnvelopePrefix = "#kseal.dev/envelope="
	dotenvKsealPrefix    = "#kseal.dev/"
)

// EnvKey is kubectl's and kustomize's rule for the keys of a dotenv file
// (an environment variable name as apimachinery's IsEnvVarName checks it).
var EnvKey = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// IsDotenvName reports whether path names a dotenv file: .env, NAME.env or
// .env.NAME (any case).
func IsDotenvName(path string) bool {
	b := strings.ToLower(filepath.Base(path))
	return strings.HasSuffix(b, ".env") || strings.HasPrefix(b, ".env.")
}

// EnvLine is one line of a dotenv file.
type EnvLine struct {
	N     int    // 1-based line number
	Key   string // "" for a blank line or a comment
	Value string // everything after the first '=', as written
	// Bare: KEY alone, without '='. kubectl takes the environment
	// variable KEY, kustomize an empty value.
	Bare bool
	Text string // the line, less its line end (and, on line 1, a byte order mark)
}

// EnvError is a fault of one line of a dotenv file. It never quotes the
// line: a line that is not KEY=VALUE may be a value pasted by mistake.
type EnvError struct {
	Line int
	Err  error
}

func (e *EnvError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *EnvError) Unwrap() error { return e.Err }

// ReadEnvLines reads data as kubectl and kustomize read a dotenv file:
// lines end at "\n" (a "\r" before it is dropped), each line must be UTF-8,
// a byte order mark on the first line is dropped, leading white space is
// trimmed, blank lines and lines starting with # are comments, and the
// value is the rest of the line after the first '=', quotes and all.
func ReadEnvLines(data []byte) ([]EnvLine, error) {
	if len(data) > MaxStreamSize {
		return nil, budgetError(len(data))
	}
	text := string(data)
	raw := strings.Split(text, "\n")
	if strings.HasSuffix(text, "\n") || text == "" {
		raw = raw[:len(raw)-1]
	}
	out := make([]EnvLine, 0, len(raw))
	for i, l := range raw {
		n := i + 1
		l = strings.TrimSuffix(l, "\r")
		if strings.ContainsRune(l, '\r') {
			// Readers that also end lines at a bare CR (python-dotenv)
			// would read a second line hidden in this one, for example
			// in a comment kseal passes on.
			return nil, &EnvError{n, errors.New("a carriage return inside the line (the line is not shown: it may hold a value)")}
		}
		if !utf8.ValidString(l) {
			return nil, &EnvError{n, errors.New("not valid UTF-8 (the line is not shown: it may hold a value)")}
		}
		if i == 0 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		e := EnvLine{N: n, Text: l}
		t := strings.TrimLeftFunc(l, unicode.IsSpace)
		if t != "" && t[0] != '#' {
			k, v, ok := strings.Cut(t, "=")
			if !EnvKey.MatchString(k) {
				return nil, &EnvError{n, errors.New("not KEY=VALUE with a valid key (letters, digits, '-', '_' or '.', not starting with a digit)")}
			}
			e.Key, e.Value, e.Bare = k, v, !ok
		}
		out = append(out, e)
	}
	return out, nil
}

// dotenv is what a Stream read from a dotenv file keeps of it to write it
// back: the file, and its lines in order.
type dotenv struct {
	raw      []byte
	lines    []EnvLine
	sealed   bool
	comments int // comment lines of a plain dotenv, left out when it is sealed
}

// ParseDotenv reads a dotenv file, plain or sealed, into a stream of one
// Secret. A plain dotenv names no Secret: name (and later a namespace) is
// given by the caller, and may be empty for a command that only reads. A
// line without '=' is refused: kubectl would read it as an environment
// variable and kustomize as an empty value (write KEY= for that).
func ParseDotenv(data []byte, name string) (*Stream, error) {
	lines, err := ReadEnvLines(data)
	if err != nil {
		return nil, err
	}
	env, values, kl, err := sortDotenvLines(data, lines)
	if err != nil {
		return nil, err
	}
	ns := ""
	if env.sealed {
		if ns, name, err = kl.secret(); err != nil {
			return nil, err
		}
	}
	n, err := dotenvSecret(ns, name, env, values, kl.envelope)
	if err != nil {
		return nil, err
	}
	text, err := n.String()
	if err != nil {
		return nil, err
	}
	s, err := Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	if len(s.Docs) != 1 {
		return nil, fmt.Errorf("dotenv: %d documents", len(s.Docs))
	}
	s.env = env
	return s, nil
}

// ksealLines are the kseal lines of a sealed dotenv as found: the text
// after each prefix and its line number, 0 while the line is not seen.
type ksealLines struct {
	target, envelope         string
	targetLine, envelopeLine int
}

// sortDotenvLines owns the reading of a dotenv's lines: the kseal lines go
// to ksealLines, the others are kept in order to be written back, and each
// key's value is taken once. It refuses a bare key, a key given twice and
// a sealed dotenv with only one of its kseal lines.
func sortDotenvLines(data []byte, lines []EnvLine) (*dotenv, map[string]string, ksealLines, error) {
	env := &dotenv{raw: data}
	values := map[string]string{}
	var kl ksealLines
	for _, l := range lines {
		if strings.HasPrefix(l.Text, dotenvKsealPrefix) {
			if err := kl.take(l); err != nil {
				return nil, nil, kl, err
			}
			continue
		}
		if l.Key == "" {
			if strings.TrimSpace(l.Text) != "" {
				env.comments++
			}
			env.lines = append(env.lines, l)
			continue
		}
		if l.Bare {
			return nil, nil, kl, &EnvError{l.N, errors.New("a line without '=': kubectl would take an environment variable, kustomize an empty value; write KEY= for an empty value (the line is not shown: it may be a value)")}
		}
		if _, dup := values[l.Key]; dup {
			return nil, nil, kl, &EnvError{l.N, fmt.Errorf("key %q given twice", l.Key)}
		}
		values[l.Key] = l.Value
		env.lines = append(env.lines, l)
	}
	switch {
	case kl.targetLine != 0 && kl.envelopeLine == 0:
		return nil, nil, kl, &EnvError{kl.targetLine, fmt.Errorf("a sealed dotenv needs both kseal lines; %s is missing", strings.TrimSuffix(DotenvEnvelopePrefix, "="))}
	case kl.envelopeLine != 0 && kl.targetLine == 0:
		return nil, nil, kl, &EnvError{kl.envelopeLine, fmt.Errorf("a sealed dotenv needs both kseal lines; %s is missing", strings.TrimSuffix(DotenvSecretPrefix, "="))}
	}
	env.sealed = kl.envelopeLine != 0
	return env, values, kl, nil
}

// take records l, a line starting with the kseal prefix. The rule is the
// one docs/format.md ("Sealed dotenv") states: each kseal line at most
// once, and no other line with the kseal prefix.
func (kl *ksealLines) take(l EnvLine) error {
	switch {
	case strings.HasPrefix(l.Text, DotenvSecretPrefix) && kl.targetLine == 0:
		kl.target, kl.targetLine = strings.TrimPrefix(l.Text, DotenvSecretPrefix), l.N
	case strings.HasPrefix(l.Text, DotenvEnvelopePrefix) && kl.envelopeLine == 0:
		kl.envelope, kl.envelopeLine = strings.TrimPrefix(l.Text, DotenvEnvelopePrefix), l.N
	case strings.HasPrefix(l.Text, DotenvSecretPrefix), strings.HasPrefix(l.Text, DotenvEnvelopePrefix):
		return &EnvError{l.N, errors.New("a kseal line given twice")}
	default:
		return &EnvError{l.N, fmt.Errorf("unknown kseal line: want %s or %s", strings.TrimSuffix(DotenvSecretPrefix, "="), strings.TrimSuffix(DotenvEnvelopePrefix, "="))}
	}
	return nil
}

// secret owns the Secret a sealed dotenv's values are bound to: the
// namespace and name of its secret line (NAME alone for no namespace),
// checked, since they become the object's own metadata, which opening
// checks the values against.
func (kl *ksealLines) secret() (ns, name string, err error) {
	if ns, name, _ = strings.Cut(kl.target, "/"); name == "" {
		ns, name = "", ns
	}
	if err = CheckName(name); err != nil {
		return "", "", &EnvError{kl.targetLine, err}
	}
	if ns != "" {
		if err = CheckNamespace(ns); err != nil {
			return "", "", &EnvError{kl.targetLine, err}
		}
	}
	return ns, name, nil
}

// dotenvSecret owns the Secret a dotenv reads as: named ns/name (unnamed
// until its command names it), holding the ciphertexts and envelope as
// written when sealed, or the values when plain.
func dotenvSecret(ns, name string, env *dotenv, values map[string]string, envelope string) (*yaml.RNode, error) {
	n := yaml.NewMapRNode(nil)
	setString(n, "apiVersion", "v1")
	setString(n, "kind", "Secret")
	if name != "" {
		if err := n.SetName(name); err != nil {
			return nil, err
		}
	} else if _, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, "metadata")); err != nil {
		return nil, err // a Secret without a name yet: its command names it
	}
	if ns != "" {
		if err := n.SetNamespace(ns); err != nil {
			return nil, err
		}
	}
	if env.sealed {
		if err := n.SetAnnotations(map[string]string{EnvelopeAnnotation: envelope}); err != nil {
			return nil, err
		}
		// The ciphertexts as written: crypto.Parse checks them.
		m, err := n.Pipe(yaml.LookupCreate(yaml.MappingNode, "data"))
		if err != nil {
			return nil, err
		}
		for _, l := range env.lines {
			if l.Key != "" {
				m.YNode().Content = append(m.YNode().Content,
					&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: l.Key},
					&yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: values[l.Key]})
			}
		}
	} else if len(values) > 0 {
		vals := map[string][]byte{}
		for k, v := range values {
			vals[k] = []byte(v)
		}
		if err := setValues(n, vals, "data"); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// IsDotenv reports whether the stream is written as a dotenv file.
func (s *Stream) IsDotenv() bool { return s.env != nil }

// DotenvComments is the number of comment lines of a plain dotenv: sealing
// leaves them out, since a comment is often a value commented out.
func (s *Stream) DotenvComments() int {
	if s.env == nil || s.env.sealed {
		return 0
	}
	return s.env.comments
}

// AsYAML makes a stream read from a dotenv file write its Secret as YAML.
func (s *Stream) AsYAML() {
	if s.env != nil {
		s.env = nil
		s.Docs[0].changed = true
	}
}

// ToDotenv makes a stream of one Secret write itself as a dotenv file.
func (s *Stream) ToDotenv() error {
	if len(s.Docs) != 1 || (s.Docs[0].Kind != KindSecret && s.Docs[0].Kind != KindEncrypted) {
		return errors.New("a dotenv holds exactly one Secret")
	}
	s.env = &dotenv{}
	s.Docs[0].changed = true
	return nil
}

// render writes the Secret d as a dotenv: the lines read, in their order,
// with each value replaced; keys that are new at the end in sorted order.
// A plain dotenv that was sealed keeps no comment (a commented-out value
// would stay readable); a sealed one keeps the comments it had.
func (env *dotenv) render(d *Doc) ([]byte, error) {
	if !d.changed && env.raw != nil {
		return env.raw, nil
	}
	t := d.Template()
	if len(t.Labels) > 0 || len(t.Annotations) > 0 || (t.Type != "" && t.Type != "Opaque") || t.Immutable {
		return nil, d.errorf("", "a dotenv holds no labels, annotations, type or immutable flag: write this Secret as YAML (an encrypted Secret or a SealedSecret)")
	}
	var vals map[string]string
	var b strings.Builder
	keepComments := true
	switch d.Kind {
	case KindEncrypted:
		var err error
		if vals, err = stringMap(d.node, "data"); err != nil {
			return nil, d.wrap("data", err)
		}
		fmt.Fprintf(&b, "%s%s\n", DotenvSecretPrefix, d.Object())
		keepComments = env.sealed
	case KindSecret:
		plain, err := d.Plain()
		if err != nil {
			return nil, err
		}
		vals = map[string]string{}
		for k, v := range plain {
			if !utf8.Valid(v) || strings.ContainsAny(string(v), "\n\r") {
				return nil, d.errorf("data."+k, "the value holds a line break or bytes that are not UTF-8, which a dotenv cannot hold: write it as YAML (-o yaml)")
			}
			vals[k] = string(v)
		}
	default:
		return nil, d.errorf("", "a dotenv holds a Secret, plain or encrypted")
	}
	written := map[string]bool{}
	for _, l := range env.lines {
		switch v, ok := vals[l.Key]; {
		case l.Key == "" && (keepComments || strings.TrimSpace(l.Text) == ""):
			b.WriteString(l.Text + "\n")
		case l.Key != "" && ok:
			b.WriteString(l.Key + "=" + v + "\n")
			written[l.Key] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if written[k] {
			continue
		}
		if !EnvKey.MatchString(k) {
			return nil, d.errorf("data."+k, "not a key a dotenv can hold (letters, digits, '-', '_' or '.', not starting with a digit)")
		}
		b.WriteString(k + "=" + vals[k] + "\n")
	}
	if d.Kind == KindEncrypted {
		env := d.node.GetAnnotations()[EnvelopeAnnotation]
		if strings.ContainsAny(env, "\n\r") {
			return nil, d.errorf("metadata.annotations", "the envelope spans lines")
		}
		fmt.Fprintf(&b, "%s%s\n", DotenvEnvelopePrefix, env)
	}
	return []byte(b.String()), nil
}

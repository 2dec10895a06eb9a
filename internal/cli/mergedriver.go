package cli

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// A git merge driver for sealed files. Two branches that changed different
// values of one sealed object conflict line by line (the envelope changed
// on both), yet merge cleanly value by value. The sections cannot simply be
// combined without a key: each section's commitment is keyed from its own
// data key and chains the previous section's, so a section moved behind
// the other branch's no longer verifies, and only its data key could
// commit it again. So the driver opens the three versions with the
// identities at hand (as kseal edit does), merges the plaintext values
// three-way (only when both versions extend the base's chain: nothing a
// writer without a key could not have sealed is sealed again), seals what
// the other branch changed in a new section on top
// of our version (Opened.Update: fresh data key, unchanged values keep
// their ciphertext), checks that the result opens to exactly the merged
// values, and only then replaces %A. Anything else is a conflict: exit 1,
// %A untouched.

// mergeOptions are the flags of merge-driver.
type mergeOptions struct {
	ids    identityFlags
	target recipientSource
}

func newMergeDriverCmd(e *env) *cobra.Command {
	var opts mergeOptions
	cmd := &cobra.Command{
		Use:   "merge-driver BASE OURS THEIRS [PATH]",
		Short: "git merge driver: merge two branches' edits to different values of a sealed file",
		Long: `merge-driver is run by git (merge=kseal in .gitattributes) with the common
ancestor, our version (which receives the result) and their version of a
sealed file, and the file's path in the repository:

  git config merge.kseal.name 'kseal sealed values'
  git config merge.kseal.driver 'kseal merge-driver %O %A %B %P'

It opens the three versions with your identities, merges the values
three-way and seals their branch's changes in a new section of our
version, for exactly the recipients the merged object has (the three-way
merge of the versions' recipients): --recipient/--recipients-file and
kseal.yaml only lend public keys of recipients you hold no key of, such as
a cluster's. A branch whose version does not extend the
base's sections (an older version restored, an object sealed anew, compact,
rotate, a dropped recipient, a template change, a recipient added to an
object of several sections), values changed on both
branches to different plaintexts, metadata changed on both, recipients
changed on both, a version it cannot open, or a result that does not verify
are conflicts: it exits 1 and leaves OURS as it was. See docs/git.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 3 || len(args) > 4 {
				return usagef("merge-driver takes BASE OURS THEIRS [PATH] (git passes %%O %%A %%B %%P), got %d arguments", len(args))
			}
			return nil
		},
	}
	opts.ids.register(cmd)
	opts.target.register(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runMergeDriver(e, &opts, args)
	}
	return cmd
}

// mergeConflict lists why a merge was refused.
type mergeConflict struct {
	path    string
	reasons []string
}

func (c *mergeConflict) Error() string {
	return fmt.Sprintf("%s: not merged (resolve by hand, e.g. kseal edit %s): %s", c.path, c.path, strings.Join(c.reasons, "; "))
}

func runMergeDriver(e *env, opts *mergeOptions, args []string) error {
	basePath, oursPath, theirsPath := args[0], args[1], args[2]
	path := oursPath
	if len(args) == 4 && args[3] != "" {
		path = args[3]
	}
	base, _, err := readRegular(basePath)
	if err != nil {
		return err
	}
	ours, mode, err := readRegular(oursPath)
	if err != nil {
		return err
	}
	if !mode.IsRegular() {
		// The result replaces OURS: never a pipe (/dev/stdin, <(…)).
		return usagef("%s: not a regular file (a pipe or process substitution): the merge driver writes the result there", oursPath)
	}
	theirs, _, err := readRegular(theirsPath)
	if err != nil {
		return err
	}
	switch {
	case bytes.Equal(ours, theirs), bytes.Equal(base, theirs):
		return nil // ours is the result already
	case bytes.Equal(base, ours):
		return writeAtomic(oursPath, theirs, mode)
	}
	ids, err := opts.ids.resolve(e)
	if err != nil {
		return err
	}
	m := &merger{e: e, opts: opts, path: path, ids: ids, conflict: &mergeConflict{path: path}}
	out, err := m.merge(base, ours, theirs)
	if err != nil {
		return err
	}
	if len(m.conflict.reasons) > 0 {
		return exitError{ExitError, m.conflict}
	}
	// Never hand git something that does not open to what was merged.
	if err := verifyMerged(e, ids, out, m.want); err != nil {
		m.conflict.reasons = append(m.conflict.reasons, fmt.Sprintf("the merged file does not verify (%v)", err))
		return exitError{ExitError, m.conflict}
	}
	return writeAtomic(oursPath, out, mode)
}

// merger merges one file.
type merger struct {
	e        *env
	opts     *mergeOptions
	path     string
	ids      []keys.Identity
	conflict *mergeConflict
	want     map[int]map[string][]byte // doc index → merged values
}

func (m *merger) refuse(format string, a ...any) {
	m.conflict.reasons = append(m.conflict.reasons, fmt.Sprintf(format, a...))
}

func topLevel(s *manifest.Stream) []*manifest.Doc {
	var out []*manifest.Doc
	for _, d := range s.Docs {
		if d.Item() < 0 {
			out = append(out, d)
		}
	}
	return out
}

func isSealed(d *manifest.Doc) bool {
	return d.Kind == manifest.KindSealedSecret || d.Kind == manifest.KindEncrypted
}

// merge merges the three versions document by document: a document only
// one branch changed is taken from it; one both changed must be the same
// sealed object in all three, and is merged value by value.
func (m *merger) merge(base, ours, theirs []byte) ([]byte, error) {
	var strms [3]*manifest.Stream
	for i, b := range [][]byte{base, ours, theirs} {
		s, err := manifest.Parse(b)
		if err != nil {
			m.refuse("%s version: %v", [...]string{"base", "our", "their"}[i], err)
			return nil, nil
		}
		strms[i] = s
	}
	tb, to, tt := topLevel(strms[0]), topLevel(strms[1]), topLevel(strms[2])
	if len(tb) != len(to) || len(tb) != len(tt) || len(tb) == 0 {
		m.refuse("the versions hold %d (base), %d (ours) and %d (theirs) documents; only edits within documents are merged", len(tb), len(to), len(tt))
		return nil, nil
	}
	m.want = map[int]map[string][]byte{}
	var out strings.Builder
	for i := range tb {
		b, o, t := tb[i].Text(), to[i].Text(), tt[i].Text()
		switch {
		case o == t, b == t:
			out.WriteString(o)
			continue
		case b == o:
			out.WriteString(t)
			continue
		}
		text, err := m.mergeDoc(i+1, b, o, t)
		if err != nil {
			return nil, err
		}
		out.WriteString(text)
	}
	return []byte(out.String()), nil
}

// mergeSide is one side of a document being merged.
type mergeSide struct {
	name string
	strm *manifest.Stream
	d    *manifest.Doc
	s    *crypto.Sealed
	o    *crypto.Opened
	skel string
}

func (m *merger) mergeDoc(index int, texts ...string) (string, error) {
	var vs [3]*mergeSide
	for i, text := range texts {
		v := &mergeSide{name: [...]string{"base", "ours", "theirs"}[i]}
		strm, err := manifest.Parse([]byte(text))
		if err != nil || len(strm.Docs) != 1 || !isSealed(strm.Docs[0]) {
			m.refuse("doc %d: changed on both branches, and not a sealed object in every version", index)
			return "", nil
		}
		v.strm, v.d = strm, strm.Docs[0]
		vs[i] = v
	}
	b, o, t := vs[0], vs[1], vs[2]
	at := fmt.Sprintf("doc %d: %s %s", index, o.d.Kind, o.d.Object())
	if b.d.Kind != o.d.Kind || o.d.Kind != t.d.Kind || b.d.Object() != o.d.Object() || o.d.Object() != t.d.Object() {
		m.refuse("doc %d: not the same sealed object in every version (%s %s, %s %s, %s %s)", index, b.d.Kind, b.d.Object(), o.d.Kind, o.d.Object(), t.d.Kind, t.d.Object())
		return "", nil
	}
	for _, v := range vs {
		var err error
		if v.s, v.o, err = openDoc(m.e, v.d, m.ids); err != nil {
			m.refuse("%s: %s does not open with your identities (%v)", at, v.name, err)
			return "", nil
		}
		if v.skel, err = skeleton(v.d); err != nil {
			return "", err
		}
	}
	in := newMergeInput(b, o, t)
	if err := firstConflict(in); err != nil {
		m.refuse("%s: %v", at, err)
		return "", nil
	}
	carrier, merged := in.carrier, in.merged
	rcpts, err := m.recipients(carrier.d, in.keyIDs)
	if err != nil {
		m.refuse("%s: %v", at, err)
		return "", nil
	}
	s, err := carrier.o.Update(m.e.ctx, rand.Reader, carrier.d.Template(), merged, rcpts)
	if err != nil {
		m.refuse("%s: %v", at, err)
		return "", nil
	}
	if err := writeSealed(carrier.d, s, nil); err != nil {
		return "", err
	}
	m.want[index] = merged
	text, err := carrier.strm.Bytes()
	return string(text), err
}

// recipients returns what the merged object is sealed to: exactly the key
// IDs want (the three-way merge of the versions' recipients), never the
// list the flags or the policy give. Those only lend public keys: a merge
// never widens or narrows who can read the file (a driver configured with
// the cluster's recipients file would otherwise seal every merged file to
// the cluster alone, and the merge would fail to verify with your key).
func (m *merger) recipients(d *manifest.Doc, want []string) ([]keys.Recipient, error) {
	pool, err := compactPool(m.e, &m.opts.target, m.path, d)
	if err != nil {
		return nil, err
	}
	rcpts, missing := lookupPublicKeys(want, pool, m.ids)
	if len(missing) > 0 {
		return nil, fmt.Errorf("the public keys of %s are not at hand (not among your identities, the recipient flags or the policy; add --recipients-file FILE to merge.kseal.driver: its recipients are only looked up, the object keeps exactly its own)", strings.Join(missing, ", "))
	}
	return rcpts, nil
}

// skeleton renders a sealed document without its values and envelope: what
// is left is its metadata and template, which a merge takes from one side.
func skeleton(d *manifest.Doc) (string, error) {
	n := d.Node().Copy()
	switch d.Kind {
	case manifest.KindSealedSecret:
		if spec := n.Field("spec"); spec != nil && spec.Value.YNode().Kind == yaml.MappingNode {
			for _, f := range []string{"encryptedData", "envelope"} {
				if err := spec.Value.PipeE(yaml.Clear(f)); err != nil {
					return "", err
				}
			}
		}
	case manifest.KindEncrypted:
		if err := n.PipeE(yaml.Clear("data")); err != nil {
			return "", err
		}
		if err := n.PipeE(yaml.ClearAnnotation(manifest.EnvelopeAnnotation)); err != nil {
			return "", err
		}
	}
	return n.String()
}

// verifyMerged opens every sealed document of out that the merge sealed
// and checks that it opens, every wrap it can check holds the same data
// key, and its values are exactly the merged ones.
func verifyMerged(e *env, ids []keys.Identity, out []byte, want map[int]map[string][]byte) error {
	strm, err := manifest.Parse(out)
	if err != nil {
		return err
	}
	seen := 0
	for _, d := range topLevel(strm) {
		w, ok := want[d.Index]
		if !ok {
			continue
		}
		seen++
		if !isSealed(d) {
			return fmt.Errorf("doc %d: not sealed", d.Index)
		}
		_, o, budgeted, err := openBudgeted(e, d, ids)
		if err != nil {
			return err
		}
		if _, err := o.CheckWraps(e.ctx, budgeted); err != nil {
			return d.Err(err)
		}
		if !maps.EqualFunc(o.Values, w, bytes.Equal) {
			return d.Err(errors.New("opens to other values than were merged"))
		}
	}
	if seen != len(want) {
		return fmt.Errorf("%d merged objects, %d found", len(want), seen)
	}
	return nil
}

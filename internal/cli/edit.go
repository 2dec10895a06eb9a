package cli

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

func newEditCmd(e *env) *cobra.Command {
	var idf identityFlags
	var target recipientSource
	cmd := &cobra.Command{
		Use:   "edit FILE",
		Short: "Edit the plaintext of a sealed file in $EDITOR and re-seal it",
		Long: `edit opens every sealed object in FILE, shows them as plain Secrets in
$EDITOR (a 0600 file in a private directory, removed afterwards), and
re-seals what you save: values, labels, annotations, type and immutable.
What changed is sealed in a new section under a fresh data key (never under
a key whoever sealed the file may know); unchanged values keep their exact
ciphertext, so the git diff shows only what changed. A template change or
a recipient dropped seals every value again in one section under a fresh
data key, and so does a recipient added unless the object is one section
and nothing else changed (docs/format.md, the recommit rule). Saving the file
unchanged writes nothing. Text that does not parse or validate is shown
again in the editor with the error on top; save it unchanged to give up.
FILE changed on disk while the editor was open is not overwritten. kseal
compact (or rotate) folds the sections into one.

Every recipient the object has is kept: what changed is sealed for all of
them, so their public keys must be at hand — among your identities, KMS key
IDs, --recipient/--recipients-file, $KSEAL_RECIPIENTS_FILE or kseal.yaml's
keys. --recipient and --recipients-file never take the place of the
object's recipients: one the object lacks is added (and said so).
--rm-recipient removes one, and says it revokes it: every value is sealed
again under a fresh data key. Under kseal.yaml the recipients change only
through the policy and kseal reencrypt.`,
		Example: `  kseal edit db.yaml
  kseal edit --recipients-file cluster.pub db.yaml       # public keys of recipients you hold no key of
  kseal edit --rm-recipient 3a620bda526442be db.yaml     # revoke one (fresh data key)
  EDITOR='code --wait' kseal edit db.yaml`,
		Args: cobra.ExactArgs(1),
	}
	idf.register(cmd)
	target.register(cmd, false)
	var rm []string
	cmd.Flags().StringArrayVar(&rm, "rm-recipient", nil, "recipient or key ID to remove from the objects (repeatable; revokes it: every value sealed again under a fresh data key)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runEdit(e, &idf, &target, rm, args[0])
	}
	return cmd
}

// editItem is one sealed object of the file being edited.
type editItem struct {
	d     *manifest.Doc
	s     *crypto.Sealed
	o     *crypto.Opened
	rcpts recipientEdit
}

func runEdit(e *env, idf *identityFlags, target *recipientSource, rm []string, file string) error {
	ids, err := idf.resolve(e)
	if err != nil {
		return err
	}
	files := fileFlags{inPlace: true, dotenv: true}
	ins, err := files.read(e, []string{file})
	if err != nil {
		return err
	}
	in := ins[0]
	var items []editItem
	var texts []string
	for _, d := range in.strm.Docs {
		if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
			continue
		}
		s, o, err := openDoc(e, d, ids)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		text, err := manifest.SecretText(d.Target(), "", o.Values)
		if err != nil {
			return err
		}
		// Before the editor opens: a missing public key is not worth an
		// edit that could not be written.
		rcpts, err := editRecipients(e, target, fileName(in), d, s, ids, rm)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, d.Err(err))
		}
		items = append(items, editItem{d, s, o, rcpts})
		texts = append(texts, text)
	}
	if len(items) == 0 {
		return fmt.Errorf("%s: no sealed objects to edit", in.name)
	}
	reseal := slices.ContainsFunc(items, func(it editItem) bool { return it.rcpts.changes() })
	original := strings.Join(texts, "---\n")
	shown := original
	for {
		edited, err := runEditor(e, shown)
		if err != nil {
			return err
		}
		if edited == original && !reseal {
			fmt.Fprintln(e.stderr, "kseal: no changes")
			return nil
		}
		if edited == shown && shown != original {
			// Shown again with an error and saved as it was: the user gave up.
			return errors.New("edit cancelled: the text still does not apply; nothing written")
		}
		body := stripEditHeader(edited)
		err = applyEdit(e, items, body)
		if err == nil {
			break
		}
		var x exitError
		if errors.As(err, &x) {
			return err
		}
		// As kubectl edit and sops do: back to the editor, the text kept,
		// the error on top.
		fmt.Fprintf(e.stderr, "kseal: the edit does not apply (%v); reopening the editor\n", err)
		shown = editHeader(err) + body
	}
	// The editor may have been open for a while: never overwrite what
	// someone else wrote meanwhile.
	now, _, err := readRegular(in.real)
	if err != nil {
		return err
	}
	if !bytes.Equal(now, in.data) {
		return hintError{fmt.Errorf("%s changed on disk while the editor was open; nothing written", in.name), "run kseal edit again on the new version"}
	}
	in.dirty = true
	if err := files.write(e, ins); err != nil {
		return err
	}
	for _, it := range items {
		reportRecipientEdit(e, in.name, it.d, it.rcpts)
	}
	return nil
}

const editHeaderPrefix = "# kseal: "

// editHeader is the comment put above text that did not apply.
func editHeader(err error) string {
	var b strings.Builder
	b.WriteString(editHeaderPrefix + "this edit does not apply:\n")
	for _, l := range strings.Split(err.Error(), "\n") {
		b.WriteString(editHeaderPrefix + "  " + l + "\n")
	}
	b.WriteString(editHeaderPrefix + "fix the text below and save, or save it unchanged to give up (nothing is written).\n")
	return b.String()
}

// stripEditHeader removes the lines editHeader added.
func stripEditHeader(text string) string {
	for strings.HasPrefix(text, editHeaderPrefix) {
		_, rest, ok := strings.Cut(text, "\n")
		if !ok {
			return ""
		}
		text = rest
	}
	return text
}

// applyEdit checks the edited text and re-seals every item from it, in
// memory: on error nothing of in has changed that is written.
func applyEdit(e *env, items []editItem, edited string) error {
	if strings.TrimSpace(edited) == "" {
		return errors.New("edited text is empty (to delete the file, delete it)")
	}
	strm, err := manifest.Parse([]byte(edited))
	if err != nil {
		return fmt.Errorf("edited text: %w", err)
	}
	var docs []*manifest.Doc
	for _, d := range strm.Docs {
		if d.Kind != manifest.KindOther {
			docs = append(docs, d)
		}
	}
	if len(docs) != len(items) {
		return fmt.Errorf("edited text holds %d Secrets, want %d (add or remove objects in the file itself)", len(docs), len(items))
	}
	type result struct {
		s    *crypto.Sealed
		tmpl crypto.Template
	}
	results := make([]result, len(items))
	for i, it := range items {
		nd := docs[i]
		if nd.Kind != manifest.KindSecret {
			return fmt.Errorf("edited text: doc %d: want a plain Secret, found a sealed one", nd.Index)
		}
		if was := it.d.Target(); nd.Target().Namespace != was.Namespace || nd.Target().Name != was.Name {
			return fmt.Errorf("edited text: doc %d: Secret %s: name and namespace cannot change in edit (was %s)", nd.Index, nd.Object(), it.d.Object())
		}
		// The edited Secret takes the sealing pipeline's checks; an edit
		// may leave it without values.
		values, err := preparePlain(nd, nil, true)
		if err != nil {
			return fmt.Errorf("edited text: %w", err)
		}
		tmpl := nd.Template()
		s, err := it.o.Update(e.ctx, rand.Reader, tmpl, values, it.rcpts.rcpts)
		if err != nil {
			return fmt.Errorf("edited text: doc %d: %w", nd.Index, err)
		}
		results[i] = result{s, tmpl}
	}
	for i, it := range items {
		if err := writeSealed(it.d, results[i].s, &results[i].tmpl); err != nil {
			return exitError{ExitError, err}
		}
	}
	return nil
}

// selectOne picks the sealed document set/unset work on: the only one, or
// the one named with --name.
func selectOne(in *input, name string) (*manifest.Doc, error) {
	var found []*manifest.Doc
	for _, d := range in.strm.Docs {
		if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
			continue
		}
		if name == "" || d.Node().GetName() == name {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if name != "" {
			return nil, fmt.Errorf("%s: no sealed object named %s", in.name, name)
		}
		return nil, fmt.Errorf("%s: no sealed object", in.name)
	}
	return nil, usagef("%s holds %d sealed objects; choose one with --name", in.name, len(found))
}

func newSetCmd(e *env) *cobra.Command {
	var target recipientSource
	var file, name string
	var force, dryRun bool
	var fromFiles []string
	cmd := &cobra.Command{
		Use:   "set -f FILE KEY=VALUE... [--from-file KEY=PATH]",
		Short: "Add or replace values in a sealed file without any private key",
		Long: `set seals new values into an existing sealed object using only recipients
(public keys): write-only contributors can add a credential without being
able to read the others. The new values form a section of their own, with its
own data key and commitment; a replaced value is recorded as removed. See
docs/format.md for what the commitment covers after such an edit, and
kseal inspect / verify to see it.`,
	}
	target.register(cmd, false)
	cmd.Flags().StringVarP(&file, "filename", "f", "", "sealed file to change in place")
	cmd.Flags().StringVar(&name, "name", "", "which object, when the file holds several")
	cmd.Flags().StringArrayVar(&fromFiles, "from-file", nil, "KEY=PATH (repeatable)")
	cmd.Flags().BoolVar(&force, "force", false, "seal to recipients that differ from the object's")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would change, write nothing; exit 4 if anything would")
	_ = cmd.MarkFlagRequired("filename")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		values := map[string][]byte{}
		for i, a := range args {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				// Not quoted: without its KEY= the argument is the value.
				return usagef("argument %d: want KEY=VALUE (the argument is not shown: it may be the value)", i+1)
			}
			values[k] = []byte(v)
		}
		for i, ff := range fromFiles {
			k, p, ok := strings.Cut(ff, "=")
			if !ok {
				return usagef("--from-file number %d: want KEY=PATH (not shown: it may be a value given by mistake)", i+1)
			}
			b, err := readValue(e, fmt.Sprintf("--from-file number %d", i+1), p)
			if err != nil {
				return fromFileError(i, p, err)
			}
			values[k] = b
		}
		if len(values) == 0 {
			return usagef("nothing to set: pass KEY=VALUE or --from-file")
		}
		if err := checkSecretSize(values); err != nil {
			return err
		}
		return changeSealed(e, file, name, dryRun, func(d *manifest.Doc, s *crypto.Sealed) error {
			rcpts, err := keylessRecipients(e, &target, file, d, s, force)
			if err != nil {
				return err
			}
			return s.Set(e.ctx, rand.Reader, d.Target(), values, rcpts)
		})
	}
	return cmd
}

func newUnsetCmd(e *env) *cobra.Command {
	var target recipientSource
	var file, name string
	var force, dryRun bool
	cmd := &cobra.Command{
		Use:   "unset -f FILE KEY...",
		Short: "Remove values from a sealed file without any private key",
		Long: `unset removes values using only recipients (public keys). The removal is a
section of its own whose commitment covers what it removed, so it needs the
object's recipients (or the policy's) like set does.`,
		Args: cobra.MinimumNArgs(1),
	}
	target.register(cmd, false)
	cmd.Flags().StringVarP(&file, "filename", "f", "", "sealed file to change in place")
	cmd.Flags().StringVar(&name, "name", "", "which object, when the file holds several")
	cmd.Flags().BoolVar(&force, "force", false, "seal to recipients that differ from the object's")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would change, write nothing; exit 4 if anything would")
	_ = cmd.MarkFlagRequired("filename")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		for i, a := range args {
			if crypto.CheckKey(a) != nil {
				// Not quoted: KEY=VALUE or a bare value given by mistake.
				return usagef("argument %d is not a Secret key (not shown: it may hold a value)", i+1)
			}
		}
		return changeSealed(e, file, name, dryRun, func(d *manifest.Doc, s *crypto.Sealed) error {
			rcpts, err := keylessRecipients(e, &target, file, d, s, force)
			if err != nil {
				return err
			}
			return s.Unset(e.ctx, rand.Reader, d.Target(), args, rcpts)
		})
	}
	return cmd
}

// keylessRecipients returns the recipients a key-less set or unset seals
// its section to: from the policy or the flags, and they must be exactly
// the object's own. A recipient the object is not sealed to (a stale
// recipients file that still lists one removed by reencrypt) would read
// every value written from now on; a missing one (a partial file, or a
// policy that dropped a key without reencrypt) could no longer open the
// object at all. Adding and removing recipients takes a key: kseal
// reencrypt. --force accepts the difference.
func keylessRecipients(e *env, t *recipientSource, file string, d *manifest.Doc, s *crypto.Sealed, force bool) ([]keys.Recipient, error) {
	p, err := t.policyFor(file)
	if err != nil {
		return nil, err
	}
	rcpts, err := t.recipients(e, file, d)
	if err != nil || force {
		return rcpts, err
	}
	has := strings.Join(s.Envelope.KeyIDs(), ", ")
	missing, extra := compareRecipients(s, rcpts)
	from := "recipient"
	if p != nil {
		from = "the policy's recipient"
	}
	switch {
	case len(extra) > 0:
		what := from + " " + extra[0] + " is not one"
		if len(extra) > 1 {
			what = from + "s " + strings.Join(extra, ", ") + " are not ones"
		}
		hint := "add recipients with kseal reencrypt --add-recipient (it holds the key), or pass --force"
		if p != nil {
			hint = "seal the object to the policy's keys with kseal reencrypt (it holds the key), or pass --force"
		}
		return nil, hintError{fmt.Errorf("%s the object is sealed to (it has %s): it would read every value written from now on, and could not open the rest", what, has), hint}
	case len(missing) > 0:
		hint := "pass every recipient of the object (kseal inspect lists them), or --force"
		if p != nil {
			hint = "the policy dropped it: revoke it with kseal reencrypt (a fresh data key for every value), or pass --force"
		}
		return nil, hintError{fmt.Errorf("the object is also sealed to %s, which these recipients do not cover (it has %s): its holders could no longer open the object", strings.Join(missing, ", "), has), hint}
	}
	return rcpts, nil
}

// fromFileError reports a --from-file that could not be read without its
// path: given KEY=VALUE by mistake (for --from-literal), the path is the
// value.
func fromFileError(i int, path string, err error) error {
	var u usageError
	if errors.As(err, &u) {
		return err
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	if path != "" {
		msg = strings.ReplaceAll(msg, path, "(the path)")
	}
	return fmt.Errorf("--from-file number %d: %s (the path is not shown: it may be a value given by mistake)", i+1, msg)
}

// compareRecipients lists the key IDs the object is sealed to that rcpts
// lack, and those of rcpts the object is not sealed to.
func compareRecipients(s *crypto.Sealed, rcpts []keys.Recipient) (missing, extra []string) {
	object := s.Envelope.KeyIDs()
	given := map[string]bool{}
	for _, r := range rcpts {
		given[r.KeyID()] = true
		if !slices.Contains(object, r.KeyID()) && !slices.Contains(extra, r.KeyID()) {
			extra = append(extra, r.KeyID())
		}
	}
	for _, id := range object {
		if !given[id] {
			missing = append(missing, id)
		}
	}
	return missing, extra
}

// changeSealed applies change to the sealed object of file (the one named
// name when there are several) without any private key, and rewrites the
// file atomically.
func changeSealed(e *env, file, name string, dryRun bool, change func(*manifest.Doc, *crypto.Sealed) error) error {
	files := fileFlags{inPlace: true, dryRun: dryRun, dotenv: true}
	ins, err := files.read(e, []string{file})
	if err != nil {
		return err
	}
	d, err := selectOne(ins[0], name)
	if err != nil {
		return err
	}
	s, err := d.Sealed()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := change(d, s); err != nil {
		return fmt.Errorf("%s: %w", file, d.Err(err))
	}
	if err := writeSealed(d, s, nil); err != nil {
		return err
	}
	ins[0].dirty = true
	return files.write(e, ins)
}

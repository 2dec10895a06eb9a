package cli

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// editOptions are the flags of edit.
type editOptions struct {
	ids    identityFlags
	target recipientSource
	rm     []string
}

func newEditCmd(e *env) *cobra.Command {
	o := &editOptions{}
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
	o.ids.register(cmd)
	o.target.register(cmd, false)
	cmd.Flags().StringArrayVar(&o.rm, "rm-recipient", nil, "recipient or key ID to remove from the objects (repeatable; revokes it: every value sealed again under a fresh data key)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runEdit(e, o, args[0])
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

// runEdit opens the sealed objects of file in the editor and re-seals what
// is saved.
func runEdit(e *env, o *editOptions, file string) error {
	ids, err := o.ids.resolve(e)
	if err != nil {
		return err
	}
	files := fileFlags{inPlace: true, dotenv: true}
	ins, err := files.read(e, []string{file})
	if err != nil {
		return err
	}
	in := ins[0]
	items, texts, err := editItems(e, o, in, ids)
	if err != nil {
		return err
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
	if string(now) != in.text {
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

// editItems opens every sealed object of in, with its plain Secret's text
// and its recipients after the edit.
func editItems(e *env, o *editOptions, in *input, ids []keys.Identity) ([]editItem, []string, error) {
	var items []editItem
	var texts []string
	for _, d := range in.strm.Docs {
		if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
			continue
		}
		s, op, err := openDoc(e, d, ids)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", in.name, err)
		}
		text, err := manifest.SecretText(d.Target(), "", op.Values)
		if err != nil {
			return nil, nil, err
		}
		// Before the editor opens: a missing public key is not worth an
		// edit that could not be written.
		rcpts, err := editRecipients(e, &o.target, fileName(in), d, s, ids, o.rm)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", in.name, d.Err(err))
		}
		items = append(items, editItem{d, s, op, rcpts})
		texts = append(texts, text)
	}
	if len(items) == 0 {
		return nil, nil, fmt.Errorf("%s: no sealed objects to edit", in.name)
	}
	return items, texts, nil
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

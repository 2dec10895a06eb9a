package cli

import (
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
	var target sealTarget
	cmd := &cobra.Command{
		Use:   "edit FILE",
		Short: "Edit the plaintext of a sealed file in $EDITOR and re-seal it",
		Long: `edit opens every sealed object in FILE, shows them as plain Secrets in
$EDITOR (a 0600 file in a private directory, removed afterwards), and
re-seals what you save. What changed is sealed in a new section under a
fresh data key (never under a key whoever sealed the file may know);
unchanged values keep their exact ciphertext, so the git diff shows only
what changed. Saving the file unchanged writes nothing. The recipients come
from kseal.yaml, from --recipient/--recipients-file, or else from your own
identities, which must then cover every key the object is sealed to.
kseal rotate folds the sections into one.`,
		Args: cobra.ExactArgs(1),
	}
	idf.register(cmd)
	target.register(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ids, err := idf.resolve(e)
		if err != nil {
			return err
		}
		files := fileFlags{inPlace: true}
		ins, err := files.read(e, args)
		if err != nil {
			return err
		}
		in := ins[0]
		type item struct {
			d *manifest.Doc
			s *crypto.Sealed
			o *crypto.Opened
		}
		var items []item
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
			items = append(items, item{d, s, o})
			texts = append(texts, text)
		}
		if len(items) == 0 {
			return fmt.Errorf("%s: no sealed objects to edit", in.name)
		}
		original := strings.Join(texts, "---\n")
		edited, err := runEditor(e, original)
		if err != nil {
			return err
		}
		if edited == original {
			fmt.Fprintln(e.stderr, "kseal: no changes")
			return nil
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
		for i, it := range items {
			nd := docs[i]
			if was := it.d.Target(); nd.Target().Namespace != was.Namespace || nd.Target().Name != was.Name {
				return fmt.Errorf("edited text: doc %d: Secret %s: name and namespace cannot change in edit (was %s)", nd.Index, nd.Object(), it.d.Object())
			}
			values, err := nd.Plain()
			if err != nil {
				return fmt.Errorf("edited text: %w", err)
			}
			// Before the template is read for the new version: a
			// last-applied annotation is the Secret again, values included.
			if _, err := it.d.StripServerMetadata(); err != nil {
				return err
			}
			rcpts, err := editRecipients(e, &target, in.name, it.d, it.s, ids)
			if err != nil {
				return fmt.Errorf("%s: %w", in.name, it.d.Err(err))
			}
			s, err := it.o.Update(e.ctx, rand.Reader, it.d.Template(), values, rcpts)
			if err != nil {
				return fmt.Errorf("%s: %w", in.name, it.d.Err(err))
			}
			if err := it.d.SetSealed(s); err != nil {
				return err
			}
		}
		in.dirty = true
		return files.write(e, ins)
	}
	return cmd
}

// editRecipients returns the recipients an edit seals to. What changed goes
// under a fresh data key, which needs public keys: the policy's (a fresh
// key for everything when the policy dropped a recipient), the flags', or
// else those of the identities at hand that can name their own recipient —
// and those must cover every key the object is sealed to, so that an edit
// never silently narrows or widens who can read it.
func editRecipients(e *env, t *sealTarget, file string, d *manifest.Doc, s *crypto.Sealed, ids []keys.Identity) ([]keys.Recipient, error) {
	p, err := t.policyFor(file)
	if err != nil {
		return nil, err
	}
	if p != nil || t.flagsGiven(e) {
		_, rcpts, err := t.resolve(e, file, d)
		return rcpts, err
	}
	var rcpts []keys.Recipient
	for _, id := range ids {
		if own, ok := id.(keys.OwnRecipient); ok {
			r, err := own.OwnRecipient()
			if err != nil {
				return nil, err
			}
			rcpts = append(rcpts, r)
		}
	}
	if missing, _ := compareRecipients(s, rcpts); len(missing) > 0 {
		return nil, hintError{
			fmt.Errorf("changes are sealed under a fresh data key for the object's recipients, and the public keys of %s are not among your identities", strings.Join(missing, ", ")),
			"pass them with --recipients-file or --recipient (kseal fetch-recipients for the cluster's), or keep a kseal.yaml that names them",
		}
	}
	return rcpts, nil
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
	var target sealTarget
	var file, name string
	var force bool
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
	cmd.Flags().BoolVar(&force, "force", false, "seal to recipients that differ from the object's (without a policy)")
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
		return changeSealed(e, file, name, func(d *manifest.Doc, s *crypto.Sealed) error {
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
	var target sealTarget
	var file, name string
	var force bool
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
	cmd.Flags().BoolVar(&force, "force", false, "seal to recipients that differ from the object's (without a policy)")
	_ = cmd.MarkFlagRequired("filename")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		for i, a := range args {
			if crypto.CheckKey(a) != nil {
				// Not quoted: KEY=VALUE or a bare value given by mistake.
				return usagef("argument %d is not a Secret key (not shown: it may hold a value)", i+1)
			}
		}
		return changeSealed(e, file, name, func(d *manifest.Doc, s *crypto.Sealed) error {
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
// its section to. Under a policy the policy decides. Otherwise they must be
// the object's own: a recipient the object is not sealed to (a stale
// recipients file that still lists one removed by reencrypt) would read
// every value written from now on, and a missing one could not open the
// object at all. --force accepts the difference.
func keylessRecipients(e *env, t *sealTarget, file string, d *manifest.Doc, s *crypto.Sealed, force bool) ([]keys.Recipient, error) {
	p, err := t.policyFor(file)
	if err != nil {
		return nil, err
	}
	_, rcpts, err := t.resolve(e, file, d)
	if err != nil || p != nil || force {
		return rcpts, err
	}
	missing, extra := compareRecipients(s, rcpts)
	switch {
	case len(extra) > 0:
		return nil, hintError{fmt.Errorf("recipient %s is not one the object is sealed to (it has %s): it would read every value written from now on", strings.Join(extra, ", "), strings.Join(s.Envelope.KeyIDs(), ", ")),
			"add recipients with kseal reencrypt (it holds the key), or pass --force"}
	case len(missing) > 0:
		return nil, hintError{fmt.Errorf("the object is also sealed to %s, which these recipients do not cover: its holders could no longer open the object", strings.Join(missing, ", ")),
			"pass every recipient of the object (kseal inspect lists them), or --force"}
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
func changeSealed(e *env, file, name string, change func(*manifest.Doc, *crypto.Sealed) error) error {
	files := fileFlags{inPlace: true}
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
	if err := d.SetSealed(s); err != nil {
		return err
	}
	ins[0].dirty = true
	return files.write(e, ins)
}

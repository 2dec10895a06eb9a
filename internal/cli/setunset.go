package cli

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// set and unset change a sealed object without any private key: what they
// write is a new section, sealed to exactly the recipients the object has.

// keylessOptions are the flags set and unset share.
type keylessOptions struct {
	target recipientSource
	file   string
	name   string
	force  bool
	dryRun bool
}

func (o *keylessOptions) register(cmd *cobra.Command) {
	o.target.register(cmd, false)
	cmd.Flags().StringVarP(&o.file, "filename", "f", "", "sealed file to change in place")
	cmd.Flags().StringVar(&o.name, "name", "", "which object, when the file holds several")
	cmd.Flags().BoolVar(&o.force, "force", false, "seal to recipients that differ from the object's")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "say what would change, write nothing; exit 4 if anything would")
	_ = cmd.MarkFlagRequired("filename")
}

// setOptions are the flags of set.
type setOptions struct {
	keylessOptions
	fromFiles []string
}

func newSetCmd(e *env) *cobra.Command {
	o := &setOptions{}
	cmd := &cobra.Command{
		Use:   "set -f FILE KEY=VALUE... [--from-file KEY=PATH]",
		Short: "Add or replace values in a sealed file without any private key",
		Long: `set seals new values into an existing sealed object using only recipients
(public keys): write-only contributors can add a credential without being
able to read the others. The new values form a section of their own, with its
own data key and commitment; a replaced value is recorded as removed. See
docs/format.md for what the commitment covers after such an edit, and
kseal inspect / verify to see it.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSet(e, o, args)
		},
	}
	o.register(cmd)
	cmd.Flags().StringArrayVar(&o.fromFiles, "from-file", nil, "KEY=PATH (repeatable)")
	return cmd
}

// runSet seals the values of args (KEY=VALUE) and --from-file into a new
// section of the sealed object.
func runSet(e *env, o *setOptions, args []string) error {
	values, err := setValues(e, o.fromFiles, args)
	if err != nil {
		return err
	}
	return changeSealed(e, o.file, o.name, o.dryRun, func(d *manifest.Doc, s *crypto.Sealed) error {
		rcpts, err := keylessRecipients(e, &o.target, o.file, d, s, o.force)
		if err != nil {
			return err
		}
		return s.Set(e.ctx, rand.Reader, d.Target(), values, rcpts)
	})
}

// setValues gathers the values set seals: KEY=VALUE arguments, then
// --from-file KEY=PATH (a key given twice takes the last).
func setValues(e *env, fromFiles, args []string) (map[string][]byte, error) {
	values := map[string][]byte{}
	for i, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			// Not quoted: without its KEY= the argument is the value.
			return nil, usagef("argument %d: want KEY=VALUE (the argument is not shown: it may be the value)", i+1)
		}
		values[k] = []byte(v)
	}
	for i, ff := range fromFiles {
		k, p, ok := strings.Cut(ff, "=")
		if !ok {
			return nil, usagef("--from-file number %d: want KEY=PATH (not shown: it may be a value given by mistake)", i+1)
		}
		b, err := readValue(e, fmt.Sprintf("--from-file number %d", i+1), p)
		if err != nil {
			return nil, fromFileError(i, p, err)
		}
		values[k] = b
	}
	if len(values) == 0 {
		return nil, usagef("nothing to set: pass KEY=VALUE or --from-file")
	}
	if err := checkSecretSize(values); err != nil {
		return nil, err
	}
	return values, nil
}

func newUnsetCmd(e *env) *cobra.Command {
	o := &keylessOptions{}
	cmd := &cobra.Command{
		Use:   "unset -f FILE KEY...",
		Short: "Remove values from a sealed file without any private key",
		Long: `unset removes values using only recipients (public keys). The removal is a
section of its own whose commitment covers what it removed, so it needs the
object's recipients (or the policy's) like set does.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUnset(e, o, args)
		},
	}
	o.register(cmd)
	return cmd
}

// runUnset removes the values named by args from the sealed object, in a
// new section.
func runUnset(e *env, o *keylessOptions, args []string) error {
	for i, a := range args {
		if crypto.CheckKey(a) != nil {
			// Not quoted: KEY=VALUE or a bare value given by mistake.
			return usagef("argument %d is not a Secret key (not shown: it may hold a value)", i+1)
		}
	}
	return changeSealed(e, o.file, o.name, o.dryRun, func(d *manifest.Doc, s *crypto.Sealed) error {
		rcpts, err := keylessRecipients(e, &o.target, o.file, d, s, o.force)
		if err != nil {
			return err
		}
		return s.Unset(e.ctx, rand.Reader, d.Target(), args, rcpts)
	})
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

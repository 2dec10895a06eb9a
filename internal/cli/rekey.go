package cli

import (
	"crypto/rand"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// rekeyFunc seals the opened object o (read from d of in) again. It
// returns the template the result is sealed under when that is not o's.
type rekeyFunc func(e *env, in *input, d *manifest.Doc, s *crypto.Sealed, o *crypto.Opened, ids []keys.Identity) (*crypto.Sealed, *crypto.Template, error)

// rotateOptions are the flags of rotate beyond every rekey command's.
type rotateOptions struct {
	target recipientSource
}

func newRotateCmd(e *env) *cobra.Command {
	opts := &rotateOptions{}
	cmd := newRekeyCmd(e, "rotate", "Re-seal every value under a new data key (for example after a key may have leaked)", &opts.target, opts.rekey)
	opts.target.scope.register(cmd, rescopeUsage)
	cmd.Example = `  kseal rotate -i db.yaml
  kseal rotate --scope namespace -i db.yaml   # allow renames (kustomize namePrefix)`
	return cmd
}

// rekey is rotate's rekeyFunc: every value sealed again under a fresh data
// key, for the recipients the policy or the flags name.
func (opts *rotateOptions) rekey(e *env, in *input, d *manifest.Doc, _ *crypto.Sealed, o *crypto.Opened, _ []keys.Identity) (*crypto.Sealed, *crypto.Template, error) {
	rcpts, err := opts.target.recipients(e, fileName(in), d)
	if err != nil {
		return nil, nil, err
	}
	return rescope(e, o, opts.target.scope.or(o.Scope()), rcpts)
}

// rescopeUsage is the --scope help text of reencrypt and rotate.
const rescopeUsage = "seal the object again under this scope (strict, namespace, shared or cluster) instead of its own; every value is sealed again under a fresh data key"

// rescope seals every value of the opened object o again, under a fresh
// data key, for scope and rcpts: what rotate does, and what reencrypt does
// when --scope changes the scope. A scope is never changed in part: each
// value's ciphertext binds the scope, so all of them are sealed anew.
// Everything being sealed anew, a last-applied copy in the template goes
// too.
func rescope(e *env, o *crypto.Opened, scope crypto.Scope, rcpts []keys.Recipient) (*crypto.Sealed, *crypto.Template, error) {
	t := o.Target()
	t.Template, _ = templateFor(o)
	if err := checkNamespace(scope, t); err != nil {
		return nil, nil, err
	}
	s, err := crypto.Seal(e.ctx, rand.Reader, scope, t, o.Values, rcpts)
	return s, &t.Template, err
}

// rekeyOptions are the flags every rekey command has.
type rekeyOptions struct {
	files  fileFlags
	ids    identityFlags
	output outputFlag
}

// newRekeyCmd builds the commands that open objects with a key and seal them
// again.
func newRekeyCmd(e *env, use, short string, target *recipientSource, rekey rekeyFunc) *cobra.Command {
	o := &rekeyOptions{}
	cmd := &cobra.Command{
		Use:   use + " [FILE|DIR]...",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRekey(e, o, use, rekey, args)
		},
	}
	o.files.register(cmd, true)
	o.files.dotenv = true
	o.files.each = true
	o.output.register(cmd)
	o.ids.register(cmd)
	target.register(cmd, false)
	return cmd
}

// runRekey opens every sealed object of the files args name (standard
// input when none) and seals it again with rekey; verb is the command's
// name, for the progress and the summary.
func runRekey(e *env, o *rekeyOptions, verb string, rekey rekeyFunc, args []string) error {
	if err := o.output.check(o.files.inPlace); err != nil {
		return err
	}
	ids, err := o.ids.resolve(e)
	if err != nil {
		return err
	}
	// Each sealed object is opened as soon as it is read (readWorking).
	sum := &runSummary{verb: pastTense(verb), idle: "sealed object"}
	ins, err := o.files.readWorking(e, args, verb, sealedKinds, sum, func(in *input, d *manifest.Doc) error {
		s, op, err := openDoc(e, d, ids)
		if err != nil {
			return err
		}
		ns, tmpl, err := rekey(e, in, d, s, op, ids)
		if err != nil {
			return d.Err(err)
		}
		if ns == nil {
			return nil // nothing to do
		}
		return writeSealed(d, ns, tmpl)
	})
	if err != nil {
		return err
	}
	return sum.finish(e, o.files.dryRun, o.files.writeAs(e, ins, &o.output))
}

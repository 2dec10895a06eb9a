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

func newRotateCmd(e *env) *cobra.Command {
	var target recipientSource
	cmd := newRekeyCmd(e, "rotate", "Re-seal every value under a new data key (for example after a key may have leaked)", &target,
		func(e *env, in *input, d *manifest.Doc, _ *crypto.Sealed, o *crypto.Opened, _ []keys.Identity) (*crypto.Sealed, *crypto.Template, error) {
			rcpts, err := target.recipients(e, fileName(in), d)
			if err != nil {
				return nil, nil, err
			}
			return rescope(e, o, target.scope.or(o.Scope()), rcpts)
		})
	target.scope.register(cmd, rescopeUsage)
	cmd.Example = `  kseal rotate -i db.yaml
  kseal rotate --scope namespace -i db.yaml   # allow renames (kustomize namePrefix)`
	return cmd
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

// newRekeyCmd builds the commands that open objects with a key and seal them
// again.
func newRekeyCmd(e *env, use, short string, target *recipientSource, rekey rekeyFunc) *cobra.Command {
	var files fileFlags
	var idf identityFlags
	var out outputFlag
	cmd := &cobra.Command{Use: use + " [FILE|DIR]...", Short: short}
	files.register(cmd, true)
	files.dotenv = true
	out.register(cmd)
	idf.register(cmd)
	target.register(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.check(files.inPlace); err != nil {
			return err
		}
		ids, ins, err := readWithIdentities(e, &idf, &files, args)
		if err != nil {
			return err
		}
		if err := checkCutShortAll(ins); err != nil {
			return err
		}
		sum := summarize(ins, pastTense(use), "sealed object", sealedKinds)
		err = each(e, use, files.jobs, ins, sealedKinds, func(in *input, d *manifest.Doc) error {
			s, o, err := openDoc(e, d, ids)
			if err != nil {
				return err
			}
			ns, tmpl, err := rekey(e, in, d, s, o, ids)
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
		return sum.finish(e, files.dryRun, files.writeAs(e, ins, &out))
	}
	return cmd
}

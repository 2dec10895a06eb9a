package cli

import (
	"crypto/rand"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// rekeyFunc seals the opened object o (read from d of in) again.
type rekeyFunc func(e *env, in *input, d *manifest.Doc, s *crypto.Sealed, o *crypto.Opened, ids []keys.Identity) (*crypto.Sealed, error)

func newRotateCmd(e *env) *cobra.Command {
	var target sealTarget
	cmd := newRekeyCmd(e, "rotate", "Re-seal every value under a new data key (for example after a key may have leaked)", &target,
		func(e *env, in *input, d *manifest.Doc, _ *crypto.Sealed, o *crypto.Opened, _ []keys.Identity) (*crypto.Sealed, error) {
			_, rcpts, err := target.resolve(e, fileName(in), d)
			if err != nil {
				return nil, err
			}
			return crypto.Seal(e.ctx, rand.Reader, o.Scope(), o.Target(), o.Values, rcpts)
		})
	return cmd
}

// newRekeyCmd builds the commands that open objects with a key and seal them
// again.
func newRekeyCmd(e *env, use, short string, target *sealTarget, rekey rekeyFunc) *cobra.Command {
	var files fileFlags
	var idf identityFlags
	var out outputFlag
	cmd := &cobra.Command{Use: use + " [FILE|DIR]...", Short: short}
	files.register(cmd, true)
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
		err = each(e, use, files.jobs, ins, sealedKinds, func(in *input, d *manifest.Doc) error {
			s, o, err := openDoc(e, d, ids)
			if err != nil {
				return err
			}
			ns, err := rekey(e, in, d, s, o, ids)
			if err != nil {
				return d.Err(err)
			}
			if ns == nil {
				return nil // nothing to do
			}
			return d.SetSealed(ns)
		})
		if err != nil {
			return err
		}
		return files.writeAs(e, ins, &out)
	}
	return cmd
}

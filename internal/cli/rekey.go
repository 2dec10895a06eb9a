package cli

import (
	"crypto/rand"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

func newReencryptCmd(e *env) *cobra.Command {
	return newRekeyCmd(e, "reencrypt", "Seal to a new recipient list (or the policy's); a dropped recipient gets no new data key",
		func(e *env, o *crypto.Opened, rcpts []keys.Recipient) (*crypto.Sealed, error) {
			return o.Rewrap(e.ctx, rand.Reader, rcpts)
		})
}

func newRotateCmd(e *env) *cobra.Command {
	return newRekeyCmd(e, "rotate", "Re-seal every value under a new data key (for example after a key may have leaked)",
		func(e *env, o *crypto.Opened, rcpts []keys.Recipient) (*crypto.Sealed, error) {
			return crypto.Seal(e.ctx, rand.Reader, o.Scope(), o.Target(), o.Values, rcpts)
		})
}

// newRekeyCmd builds the commands that open objects with a key and seal them
// again for a recipient list.
func newRekeyCmd(e *env, use, short string, rekey func(*env, *crypto.Opened, []keys.Recipient) (*crypto.Sealed, error)) *cobra.Command {
	var files fileFlags
	var idf identityFlags
	var target sealTarget
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
			_, rcpts, err := target.resolve(e, fileName(in), d)
			if err != nil {
				return d.Err(err)
			}
			_, o, err := openDoc(e, d, ids)
			if err != nil {
				return err
			}
			s, err := rekey(e, o, rcpts)
			if err != nil {
				return d.Err(err)
			}
			return d.SetSealed(s)
		})
		if err != nil {
			return err
		}
		return files.writeAs(e, ins, &out)
	}
	return cmd
}

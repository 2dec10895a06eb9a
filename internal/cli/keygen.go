package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/keys/agekey"
)

// keygenOptions are the flags of keygen.
type keygenOptions struct {
	output string
	x25519 bool
	force  bool
}

func newKeygenCmd(e *env) *cobra.Command {
	o := &keygenOptions{}
	cmd := &cobra.Command{
		Use:   "keygen -o FILE",
		Short: "Generate an age identity (post-quantum hybrid by default) and print its recipient",
		Long: `keygen writes a new age identity to FILE with 0600 permissions and prints the
recipient (public key) on standard output. The default is the post-quantum
hybrid ML-KEM-768 + X25519 (age1pq1…), so what is committed to git stays
confidential against a future quantum computer; --x25519 makes a classic key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeygen(e, o)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "identity file to create")
	cmd.Flags().BoolVar(&o.x25519, "x25519", false, "classic X25519 key instead of the post-quantum hybrid")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace an existing regular file (a symbolic link is refused, never written through)")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

// runKeygen writes a new identity to the -o file and prints its recipient.
func runKeygen(e *env, o *keygenOptions) error {
	id, err := agekey.Generate(o.x25519)
	if err != nil {
		return err
	}
	content := fmt.Sprintf("# created: %s\n# recipient: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), id.Recipient(), id.SecretString())
	if err := os.MkdirAll(filepath.Dir(o.output), 0o700); err != nil {
		return err
	}
	if o.force {
		err = replaceKeyFile(o.output, []byte(content))
	} else {
		err = createKeyFile(o.output, []byte(content))
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, id.Recipient())
	return err
}

// createKeyFile writes a new identity file at path, which must not exist.
func createKeyFile(path string, content []byte) error {
	// O_EXCL fails on any existing name, a symbolic link included
	// (even a dangling one): nothing is written through a link.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceKeyFile writes a new identity file over path for keygen --force.
// A symbolic link or anything but a regular file at path is refused, not
// followed: a link planted there (to a file the planter wants overwritten,
// to /dev/stdout, or to a place they can read) would otherwise receive the
// private key. The file is written beside path and renamed over it, so a
// link swapped in meanwhile is replaced, never written through, and path
// never holds half a key.
func replaceKeyFile(path string, content []byte) error {
	st, err := os.Lstat(path)
	switch {
	case err == nil && st.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: keygen --force does not write through it (remove the link, or name the file it points to)", path)
	case err == nil && !st.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file: not replaced", path)
	case err != nil && !os.IsNotExist(err):
		return err
	}
	return writeAtomic(path, content, 0o600)
}

package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// extractOptions are the flags of extract.
type extractOptions struct {
	ids  identityFlags
	name string
}

func newExtractCmd(e *env) *cobra.Command {
	o := &extractOptions{}
	cmd := &cobra.Command{
		Use:   "extract FILE KEY",
		Short: "Print one value of a sealed object, as it is (no YAML, no newline added), like sops --extract",
		Long: `extract verifies and opens the sealed object in FILE (the one named with
--name when FILE holds several; - reads standard input) and writes the value
of KEY to standard output byte for byte: no YAML around it, no newline
added.`,
		Example: `  PGPASSWORD="$(kseal extract db.yaml password)" psql …
  kseal extract tls.yaml tls.key > /dev/shm/tls.key`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExtract(e, o, args[0], args[1])
		},
	}
	o.ids.register(cmd)
	cmd.Flags().StringVar(&o.name, "name", "", "which object, when the file holds several")
	return cmd
}

// runExtract writes the value of key of the sealed object of file to
// standard output, byte for byte.
func runExtract(e *env, o *extractOptions, file, key string) error {
	in, d, op, err := openOne(e, &o.ids, file, o.name)
	if err != nil {
		return err
	}
	v, ok := op.Values[key]
	if !ok {
		have := make([]string, 0, len(op.Values))
		for k := range op.Values {
			have = append(have, k)
		}
		slices.Sort(have)
		return fmt.Errorf("%s: %w", in.name, d.Err(fmt.Errorf("no value %q (it has %s)", key, strings.Join(have, ", "))))
	}
	_, err = e.stdout.Write(v)
	return err
}

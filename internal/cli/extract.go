package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// openOne opens the sealed object of file ("-": standard input) that name
// picks (the only one when name is empty).
func openOne(e *env, idf *identityFlags, file, name string) (*input, *manifest.Doc, *crypto.Opened, error) {
	ids, err := idf.resolve(e)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := readOne(e, file)
	if err != nil {
		if strings.HasPrefix(err.Error(), file+":") {
			return nil, nil, nil, err
		}
		return nil, nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	d, err := selectOne(in, name)
	if err != nil {
		return nil, nil, nil, err
	}
	_, o, err := openDoc(e, d, ids)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", in.name, err)
	}
	return in, d, o, nil
}

func newExtractCmd(e *env) *cobra.Command {
	var idf identityFlags
	var name string
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
	}
	idf.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "which object, when the file holds several")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		in, d, o, err := openOne(e, &idf, args[0], name)
		if err != nil {
			return err
		}
		key := args[1]
		v, ok := o.Values[key]
		if !ok {
			have := make([]string, 0, len(o.Values))
			for k := range o.Values {
				have = append(have, k)
			}
			slices.Sort(have)
			return fmt.Errorf("%s: %w", in.name, d.Err(fmt.Errorf("no value %q (it has %s)", key, strings.Join(have, ", "))))
		}
		_, err = e.stdout.Write(v)
		return err
	}
	return cmd
}

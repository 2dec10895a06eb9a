package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/manifest"
)

// outputFlag is -o yaml|json: the format of what goes to standard output.
// Without it each document keeps the format it came in (a JSON document
// is rewritten as JSON).
type outputFlag struct {
	format string
}

func (o *outputFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", "", "format of standard output: yaml or json (default: as the input; several objects in JSON form a v1 List)")
}

func (o *outputFlag) check(inPlace bool) error {
	switch o.format {
	case "", "yaml", "json":
	default:
		return usagef("-o %q: want yaml or json", o.format)
	}
	if o.format != "" && inPlace {
		return usagef("-o chooses the format of standard output; -i keeps each file's own format")
	}
	return nil
}

// convert renders b (a YAML or JSON stream) in the chosen format.
func (o *outputFlag) convert(b []byte) ([]byte, error) {
	switch o.format {
	case "json":
		return manifest.DocumentsJSON(b)
	case "yaml":
		return manifest.DocumentsYAML(b)
	}
	return b, nil
}

// errTooLarge: kseal does not write what it could not read back.
var errTooLarge = errors.New("output larger than kseal reads back")

// checkReadBack refuses output that kseal itself would refuse to read: a
// file over the read cap would be written, and then be stuck.
func checkReadBack(name string, n int) error {
	if n > maxFileSize {
		return fmt.Errorf("%s: %w (%d bytes; at most %d): nothing written; split the input", name, errTooLarge, n, maxFileSize)
	}
	return nil
}

// writeAs is write with -o: with a format, the whole standard output is
// rendered once in it (several JSON objects become one List).
func (f *fileFlags) writeAs(e *env, ins []*input, o *outputFlag) error {
	if err := o.check(f.inPlace); err != nil {
		return err
	}
	if o.format == "" {
		return f.write(e, ins)
	}
	for _, in := range ins {
		in.strm.AsYAML() // a dotenv file's Secret, in the format asked for
	}
	var buf bytes.Buffer
	if err := f.writeTo(&buf, ins); err != nil {
		return err
	}
	out, err := o.convert(buf.Bytes())
	if err != nil {
		return fmt.Errorf("-o %s: %w", o.format, err)
	}
	if err := checkReadBack("standard output", len(out)); err != nil {
		return err
	}
	_, err = io.Copy(e.stdout, bytes.NewReader(out))
	return err
}

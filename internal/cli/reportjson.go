package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// reportFormat is -o text|json of the commands that report (verify,
// policy check): json is for CI, with the schema docs/cli.md documents.
type reportFormat struct{ format string }

func (r *reportFormat) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&r.format, "output", "o", "", "format of standard output: text (default) or json (schema in docs/cli.md)")
}

// json reports whether JSON was asked for, refusing other formats.
func (r *reportFormat) json() (bool, error) {
	switch r.format {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, usagef("-o %q: want text or json", r.format)
}

// policyReport is policy check -o json: every finding, and what was read.
type policyReport struct {
	Findings      []findingJSON `json:"findings"`
	Files         int           `json:"files"`
	SealedObjects int           `json:"sealedObjects"`
	Excluded      int           `json:"excluded"`
	// PolicyError is set when kseal.yaml itself is invalid (nothing else
	// was checked).
	PolicyError string `json:"policyError,omitempty"`
}

type findingJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func writePolicyReport(w io.Writer, found []finding, files, objects, excluded int) error {
	r := policyReport{Findings: []findingJSON{}, Files: files, SealedObjects: objects, Excluded: excluded}
	for _, f := range found {
		r.Findings = append(r.Findings, findingJSON{f.file, f.line, f.msg})
	}
	return writeJSON(w, r)
}

package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/manifest"
)

// fileStatus is what status reports about one file.
type fileStatus struct {
	File   string `json:"file"`
	Status string `json:"status"` // sealed, plaintext or none
	Sealed int    `json:"sealed"` // sealed objects
	Plain  int    `json:"plain"`  // plaintext Secrets
	// Foreign counts documents kseal cannot open: unconverted bitnami
	// SealedSecrets, sops-encrypted documents (status "foreign").
	Foreign int `json:"foreign"`
}

// statusOptions are the flags of status.
type statusOptions struct {
	files  fileFlags
	asJSON bool
}

func newStatusCmd(e *env) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [FILE|DIR]...",
		Short: "Tell whether files are sealed (no key needed); exit 4 when one holds a plaintext Secret",
		Long: `status reads each file and says "sealed" (sealed objects and no plaintext
Secret), "plaintext" (at least one plain Secret, listed by object),
"foreign" (documents kseal cannot open: an unconverted bitnami
SealedSecret, a sops-encrypted file) or "none" (no Secret of either kind),
like sops filestatus. No key is needed and
nothing is decrypted or verified (kseal verify does that).

Exit status: 0 when no file holds a plaintext Secret or a foreign
document, 4 when one does, 1 when a file cannot be read or parsed. A
summary line ends standard error.`,
		Example: `  kseal status k8s/db.yaml
  kseal status -R k8s/ --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(e, o, args)
		},
	}
	o.files.register(cmd, false)
	o.files.dotenv = true
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
	return cmd
}

// runStatus reports the status of every file args name (standard input
// when none), and fails when one holds a plaintext Secret or a foreign
// document.
func runStatus(e *env, o *statusOptions, args []string) error {
	ins, err := o.files.read(e, args)
	if err != nil {
		return err
	}
	out := []fileStatus{}
	plainFiles, foreignFiles := 0, 0
	sealed, empty, foreignDocs := 0, 0, 0
	for _, in := range ins {
		st, plain, foreign := statusOf(in)
		switch st.Status {
		case "plaintext":
			plainFiles++
		case "foreign":
			foreignFiles++
		}
		if st.Plain > 0 && st.Foreign > 0 {
			foreignFiles++
		}
		out = append(out, st)
		sealed += st.Sealed
		foreignDocs += st.Foreign
		if st.Sealed == 0 {
			empty++
		}
		if !o.asJSON {
			fmt.Fprintln(e.stdout, statusLine(st, plain, foreign))
		}
	}
	if o.asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	}
	walkSummary(e.stderr, "found", sealed, len(ins), empty, foreignDocs)
	if plainFiles > 0 {
		return exitError{ExitFindings, fmt.Errorf("plaintext Secrets in %d of %s", plainFiles, countNoun(len(ins), "file"))}
	}
	if foreignFiles > 0 {
		return exitError{ExitFindings, fmt.Errorf("documents kseal cannot open in %d of %s: convert them with kseal import", foreignFiles, countNoun(len(ins), "file"))}
	}
	return nil
}

// statusOf is the status of one file, with its plain Secrets and its
// foreign documents described for the report.
func statusOf(in *input) (st fileStatus, plain, foreign []string) {
	st = fileStatus{File: in.name, Status: "none"}
	for _, d := range in.strm.Docs {
		if f, ok := foreignDoc(d); ok {
			st.Foreign++
			foreign = append(foreign, fmt.Sprintf("doc %d %s %s: %s", d.Index, printable(f.kind), printable(f.object), f.what))
			continue
		}
		switch d.Kind {
		case manifest.KindSecret:
			st.Plain++
			plain = append(plain, fmt.Sprintf("doc %d Secret %s", d.Index, printable(d.Object())))
		case manifest.KindSealedSecret, manifest.KindEncrypted:
			st.Sealed++
		}
	}
	switch {
	case st.Plain > 0:
		st.Status = "plaintext"
	case st.Foreign > 0:
		st.Status = "foreign"
	case st.Sealed > 0:
		st.Status = "sealed"
	}
	return st, plain, foreign
}

// statusLine is the line status prints for one file.
func statusLine(st fileStatus, plain, foreign []string) string {
	line := fmt.Sprintf("%s: %s", printable(st.File), st.Status)
	switch st.Status {
	case "sealed":
		line += fmt.Sprintf(" (%s)", countNoun(st.Sealed, "object"))
	case "plaintext":
		line += fmt.Sprintf(" (%s: %s)", countNoun(st.Plain, "plaintext Secret"), strings.Join(plain, ", "))
	}
	if st.Foreign > 0 {
		line += fmt.Sprintf(" (%s kseal cannot open: %s)", countNoun(st.Foreign, "document"), strings.Join(foreign, ", "))
	}
	return line
}

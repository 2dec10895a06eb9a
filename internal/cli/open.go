package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

var sealedKinds = []manifest.Kind{manifest.KindSealedSecret, manifest.KindEncrypted}

// objectUnwrapLimits cap the key service calls made for one object, as
// the controller caps them per reconcile: anyone can seal an object of 255
// sections of 64 KMS wraps, and opening or verifying it would otherwise
// make thousands of calls with the credentials of whoever runs kseal.
// Failed and successful calls count alike; keys held in memory (age) are
// not counted. Unlike the controller's, failures are not capped apart: a
// user often holds credentials that a key of the object refuses, and
// every section then costs one refused call.
var objectUnwrapLimits = keys.UnwrapLimits{Remote: 64}

// objectIdentities returns ids counted against a fresh budget for one
// object (objectUnwrapLimits). Everything that unwraps for that object
// goes through the same ones.
func objectIdentities(ids []keys.Identity) []keys.Identity {
	return keys.NewUnwrapBudget(objectUnwrapLimits, nil).Identities(ids)
}

// openDoc verifies and opens one sealed document, within the object's
// unwrap budget.
func openDoc(e *env, d *manifest.Doc, ids []keys.Identity) (*crypto.Sealed, *crypto.Opened, error) {
	s, o, _, err := openBudgeted(e, d, ids)
	return s, o, err
}

// openBudgeted is openDoc that also returns the budgeted identities, for
// a caller that unwraps the same object again (the wrap check of verify
// and merge-driver): the object's calls are capped in all, not per step.
func openBudgeted(e *env, d *manifest.Doc, ids []keys.Identity) (*crypto.Sealed, *crypto.Opened, []keys.Identity, error) {
	s, err := d.Sealed()
	if err != nil {
		return nil, nil, nil, err
	}
	ids = objectIdentities(ids)
	o, err := crypto.Open(e.ctx, s, d.Target(), ids)
	if err != nil {
		return nil, nil, nil, cutHint(d, d.Err(err))
	}
	return s, o, ids, nil
}

// decryptOptions are the flags of decrypt.
type decryptOptions struct {
	files fileFlags
	ids   identityFlags
	out   outputFlag
}

func newDecryptCmd(e *env) *cobra.Command {
	o := &decryptOptions{}
	cmd := &cobra.Command{
		Use:   "decrypt [FILE|DIR]...",
		Short: "Open SealedSecrets and encrypted Secrets into plain Secrets (for CI)",
		Long: `decrypt verifies and opens every sealed document and writes the plain Secret
it stands for; other documents pass through. Use it in CI to apply:

  kseal decrypt -R k8s/ | kubectl apply -f -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecrypt(e, o, args)
		},
	}
	o.files.register(cmd, false)
	o.files.dotenv = true
	o.files.each = true
	o.ids.register(cmd)
	o.out.register(cmd)
	return cmd
}

// runDecrypt opens every sealed document of the inputs args name into the
// plain Secret it stands for and writes the streams.
func runDecrypt(e *env, o *decryptOptions, args []string) error {
	if err := o.out.check(false); err != nil {
		return err
	}
	ids, err := o.ids.resolve(e)
	if err != nil {
		return err
	}
	// Each sealed object is opened as soon as it is read (readWorking).
	sum := &runSummary{verb: "decrypted", idle: "sealed object"}
	ins, err := o.files.readWorking(e, args, "decrypting", sealedKinds, sum, func(_ *input, d *manifest.Doc) error {
		_, opened, err := openDoc(e, d, ids)
		if err != nil {
			return err
		}
		return d.ToPlain(opened.Values)
	})
	if err != nil {
		return err
	}
	return sum.finish(e, false, o.files.writeAs(e, ins, &o.out))
}

// docInfo is what inspect reports about one sealed document; no key needed.
type docInfo struct {
	File     string        `json:"file"`
	Doc      int           `json:"doc"`
	Kind     string        `json:"kind"`
	Object   string        `json:"object"`
	Scope    crypto.Scope  `json:"scope"`
	Binds    string        `json:"binds"`
	Sections []sectionInfo `json:"sections"`
	Verified *bool         `json:"verified,omitempty"`
	Error    string        `json:"error,omitempty"`
	// Dead is what kseal compact would fold: sections left with no value,
	// and records of removed or replaced values.
	DeadSections []int `json:"deadSections,omitempty"`
	Removals     int   `json:"removals,omitempty"`
}

type sectionInfo struct {
	Index      int             `json:"index"`
	AddedLater bool            `json:"addedLater"`
	Recipients []recipientInfo `json:"recipients"`
	Fields     []string        `json:"fields"`
	Removes    []string        `json:"removes,omitempty"`
	OpenedWith string          `json:"openedWith,omitempty"`
	Checked    []string        `json:"wrapsChecked,omitempty"`
}

type recipientInfo struct {
	Type  string `json:"type"`
	KeyID string `json:"keyID"`
}

func describe(file string, d *manifest.Doc, s *crypto.Sealed) docInfo {
	info := docInfo{File: file, Doc: d.Index, Kind: d.Kind.String(), Object: d.Object(), Scope: s.Envelope.Scope, Binds: s.Envelope.Scope.Describe(d.Target())}
	fields := s.Fields()
	for i, sec := range s.Envelope.Sections {
		si := sectionInfo{Index: i, Fields: fields[i], AddedLater: i > 0}
		if si.Fields == nil {
			si.Fields = []string{}
		}
		for _, w := range sec.Recipients {
			si.Recipients = append(si.Recipients, recipientInfo{w.Type, w.KeyID})
		}
		for _, r := range sec.Removed {
			si.Removes = append(si.Removes, fmt.Sprintf("%s (sealed in section %d)", r.Field, r.Section))
		}
		if len(si.Fields) == 0 {
			info.DeadSections = append(info.DeadSections, i)
		}
		info.Removals += len(sec.Removed)
		info.Sections = append(info.Sections, si)
	}
	return info
}

// printInfo prints what inspect and verify report. File names, key IDs and
// stanza types come from the input and are printed escaped (escape.go).
func printInfo(w io.Writer, infos []docInfo, asJSON bool) error {
	if asJSON {
		return writeJSON(w, infos)
	}
	for _, in := range infos {
		fmt.Fprintf(w, "%s: doc %d: %s %s\n", printable(in.File), in.Doc, in.Kind, printable(in.Object))
		fmt.Fprintf(w, "  scope: %s (%s)\n", printable(string(in.Scope)), printable(in.Binds))
		if in.Verified != nil {
			fmt.Fprintf(w, "  integrity: verified (values, template, recipients and every section in order)\n")
		}
		for _, s := range in.Sections {
			origin := "original"
			if s.AddedLater {
				// Sealing needs only public keys: say what this proves and
				// no more.
				origin = "added later (kseal set, unset or edit; anyone with the public recipients can add a section: review it)"
			}
			fmt.Fprintf(w, "  section %d, %s:\n", s.Index, origin)
			for _, r := range s.Recipients {
				mark := ""
				switch {
				case s.OpenedWith == r.KeyID:
					mark = "  (opened with this key)"
				case slices.Contains(s.Checked, r.KeyID):
					mark = "  (wrap checked)"
				}
				fmt.Fprintf(w, "    recipient %s %s%s\n", printable(r.Type), printable(r.KeyID), mark)
			}
			fields := printable(strings.Join(s.Fields, ", "))
			if fields == "" {
				fields = "(none left)"
			}
			fmt.Fprintf(w, "    fields: %s\n", fields)
			if len(s.Removes) > 0 {
				fmt.Fprintf(w, "    removes: %s\n", printable(strings.Join(s.Removes, ", ")))
			}
		}
		if len(in.Sections) > 1 || in.Removals > 0 {
			fmt.Fprintf(w, "  compactable: %s, %s with no value left, %s of removed or replaced values (kseal compact folds them into one section)\n",
				countNoun(len(in.Sections), "section"), countNoun(len(in.DeadSections), "section"), countNoun(in.Removals, "record"))
		}
	}
	return nil
}

// writeJSON writes v as indented JSON whose strings show no control
// character raw (jsonPrintable).
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(jsonPrintable(b), '\n'))
	return err
}

// inspectOptions are the flags of inspect.
type inspectOptions struct {
	files  fileFlags
	asJSON bool
}

func newInspectCmd(e *env) *cobra.Command {
	o := &inspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect [FILE|DIR]...",
		Short: "Show scope, recipients, key IDs and fields of sealed objects (no key needed)",
		Long: `inspect shows what each sealed object is bound to and sealed for, with no
key. Documents kseal cannot open (an unconverted bitnami SealedSecret, a
sops-encrypted file) are reported on standard error, exit status 4. It ends
with a summary line on standard error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(e, o, args)
		},
	}
	o.files.register(cmd, false)
	o.files.dotenv = true
	o.files.each = true // each Loads what it reads
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
	return cmd
}

// runInspect describes every sealed document of the inputs args name.
func runInspect(e *env, o *inspectOptions, args []string) error {
	ins, err := o.files.read(e, args)
	if err != nil {
		return err
	}
	if err := checkCutShortAll(ins); err != nil {
		return err
	}
	var infos []docInfo
	err = each(e, "inspecting", 1, ins, sealedKinds, func(in *input, d *manifest.Doc) error {
		s, err := d.Sealed()
		if err != nil {
			return err
		}
		infos = append(infos, describe(in.name, d, s))
		return nil
	})
	if err != nil {
		return err
	}
	if err := printInfo(e.stdout, infos, o.asJSON); err != nil {
		return err
	}
	var walk walkStats
	for _, in := range ins {
		walk.add(in)
	}
	reportForeign(e.stderr, walk.foreign)
	walkSummary(e.stderr, "inspected", len(infos), walk.files, walk.empty, len(walk.foreign))
	return foreignError(walk.foreign)
}

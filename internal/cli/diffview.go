package cli

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// diffViewOptions are the flags of diff-view.
type diffViewOptions struct {
	ids       identityFlags
	noDecrypt bool
}

func newDiffViewCmd(e *env) *cobra.Command {
	var opts diffViewOptions
	cmd := &cobra.Command{
		Use:   "diff-view FILE",
		Short: "Show a sealed file for git diff (textconv): one line per value, plaintext with a key, digests without",
		Long: `diff-view prints FILE for git's textconv: each sealed object as its
name, scope, template, sections and one line per value, so that git diff
shows which keys changed. With an identity that opens the object, values
are shown as quoted plaintext; without one (or with --no-decrypt), as the
SHA-256 of their ciphertext, which changes exactly when the value was
sealed again and reveals nothing about the plaintext. Other documents are
printed as they are. It never fails on a file it cannot read as a manifest:
it prints the file unchanged. Set it up with

  echo '*.sealed.yaml diff=kseal' >> .gitattributes
  git config diff.kseal.textconv 'kseal diff-view'

and never set diff.kseal.cachetextconv: git would store the plaintext in
its notes. See docs/git.md.`,
		Args: cobra.ExactArgs(1),
	}
	opts.ids.register(cmd)
	cmd.Flags().BoolVar(&opts.noDecrypt, "no-decrypt", false, "show ciphertext digests even when a key is available")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runDiffView(e, opts, args[0])
	}
	return cmd
}

func runDiffView(e *env, opts diffViewOptions, file string) error {
	data, _, err := readRegular(file)
	if err != nil {
		return err
	}
	strm, err := manifest.Parse(data)
	if err != nil {
		// git diff must still work on a file kseal cannot read. Shown,
		// not applied: control characters are escaped (escape.go).
		_, err := io.WriteString(e.stdout, printableText(string(data)))
		return err
	}
	var ids []keys.Identity
	if !opts.noDecrypt {
		if ids, err = opts.ids.resolve(e); err != nil {
			fmt.Fprintf(e.stdout, "# kseal diff-view: identities not loaded (%s); showing ciphertext digests\n", printable(err.Error()))
			ids = nil
		}
	}
	w := e.stdout
	for _, d := range strm.Docs {
		switch {
		case d.Kind == manifest.KindSealedSecret || d.Kind == manifest.KindEncrypted:
			if d.Item() < 0 && d.Index > 1 {
				fmt.Fprintln(w, "---")
			}
			if d.Item() >= 0 {
				fmt.Fprintln(w)
			}
			writeSealedView(e, w, d, ids)
		case d.Item() < 0 && !hasSealedItems(strm, d):
			io.WriteString(w, printableText(d.Text()))
		case d.Item() < 0:
			// A list holding sealed objects: as it is (its other items
			// may change too), then each sealed item as a sealed object.
			io.WriteString(w, printableText(d.Text()))
			fmt.Fprintf(w, "\n# doc %d is a list; its sealed items:\n", d.Index)
		}
	}
	return nil
}

func hasSealedItems(strm *manifest.Stream, list *manifest.Doc) bool {
	for _, d := range strm.Docs {
		if d.Index == list.Index && d.Item() >= 0 && (d.Kind == manifest.KindSealedSecret || d.Kind == manifest.KindEncrypted) {
			return true
		}
	}
	return false
}

// writeSealedView prints one sealed object, one line per value, sorted.
func writeSealedView(e *env, w io.Writer, d *manifest.Doc, ids []keys.Identity) {
	where := fmt.Sprintf("doc %d", d.Index)
	if d.Item() >= 0 {
		where += fmt.Sprintf(" item %d", d.Item()+1)
	}
	fmt.Fprintf(w, "# %s: %s %s\n", where, d.Kind, printable(d.Object()))
	s, err := d.Sealed()
	if err != nil {
		fmt.Fprintf(w, "# not readable: %s\n", printable(err.Error()))
		return
	}
	t := d.Target()
	fmt.Fprintf(w, "scope: %s\n", printable(string(s.Envelope.Scope)))
	writeTemplate(w, t.Template)
	fields := s.Fields()
	for i, sec := range s.Envelope.Sections {
		var rs []string
		for _, r := range sec.Recipients {
			rs = append(rs, printable(r.Type)+" "+printable(r.KeyID))
		}
		slices.Sort(rs)
		fmt.Fprintf(w, "section %d: recipients %s; fields %s", i, strings.Join(rs, ", "), printable(orNone(fields[i])))
		for _, r := range sec.Removed {
			fmt.Fprintf(w, "; removes %s of section %d", printable(r.Field), r.Section)
		}
		fmt.Fprintln(w)
	}
	var values map[string][]byte
	if len(ids) > 0 {
		o, err := crypto.Open(e.ctx, s, t, objectIdentities(ids))
		if err != nil {
			fmt.Fprintf(w, "# not opened (%s); showing ciphertext digests\n", printable(err.Error()))
		} else {
			values = o.Values
		}
	}
	if values == nil {
		fmt.Fprintln(w, "values (SHA-256 of the ciphertext):")
	} else {
		fmt.Fprintln(w, "values (plaintext):")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Values)) {
		v := s.Values[k]
		if values == nil {
			sum := sha256.Sum256(v)
			fmt.Fprintf(w, "  %s: sha256:%s (section %d)\n", printable(k), hex.EncodeToString(sum[:]), v[0])
			continue
		}
		fmt.Fprintf(w, "  %s: %s (section %d)\n", printable(k), showValue(values[k]), v[0])
	}
}

func writeTemplate(w io.Writer, t crypto.Template) {
	typ := t.Type
	if typ == "" {
		typ = "Opaque"
	}
	fmt.Fprintf(w, "type: %s\n", printable(typ))
	if t.Immutable {
		fmt.Fprintln(w, "immutable: true")
	}
	for _, m := range []struct {
		name string
		kv   map[string]string
	}{{"label", t.Labels}, {"annotation", t.Annotations}} {
		for _, k := range slices.Sorted(maps.Keys(m.kv)) {
			fmt.Fprintf(w, "%s %s: %s\n", m.name, printable(k), strconv.Quote(m.kv[k]))
		}
	}
}

func orNone(fs []string) string {
	if len(fs) == 0 {
		return "(none)"
	}
	return strings.Join(fs, ", ")
}

// showValue renders a plaintext value on one line: quoted text when it is
// printable UTF-8, else base64.
func showValue(v []byte) string {
	if utf8.Valid(v) && !strings.ContainsFunc(string(v), func(r rune) bool { return !unicode.IsPrint(r) && !unicode.IsSpace(r) }) {
		return strconv.Quote(string(v))
	}
	return "base64:" + base64.StdEncoding.EncodeToString(v)
}

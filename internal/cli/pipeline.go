package cli

import (
	"crypto/rand"
	"errors"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// The sealing pipeline: every command that writes a sealed or encrypted
// object goes through one of two functions here, so that what must happen
// to every such object happens once, in one place.
//
//   - sealPlain seals a plain Secret afresh: seal, encrypt, create,
//     seal --raw, import sealed-secrets, import sops and keys backup. It
//     strips what the API server and client-side apply put on the object
//     (a last-applied annotation is the whole Secret again, values
//     included), gives it a namespace, checks its name, namespace and
//     values against what the API server accepts, builds the template and
//     seals it.
//   - writeSealed writes a sealed document back after its values were
//     changed or sealed again: edit, set, unset, reencrypt, rotate and
//     merge-driver. It strips what the commitment does not cover; a
//     template given by a command holding a key replaces the old one
//     (without last-applied copies: see templateFor).
//
// The plain Secrets kseal prints (decrypt, krm, exec-file, keys restore)
// are built from the template alone by manifest.Doc.ToPlain.
// TestEveryWriterStripsLastApplied lists the commands.

// sealSpec says how sealPlain seals a plain Secret.
type sealSpec struct {
	form   form
	target *recipientSource
	// scope is the command's default: "" is strict. --scope, and a shared
	// entry of the policy over a strict default, decide over it (see
	// recipientSource.resolve).
	scope crypto.Scope
	// namespace gives a Secret without a namespace one; nil leaves it.
	namespace  func(*manifest.Doc) error
	allowEmpty bool
}

// sealPlain seals the plain Secret d of file in place, into spec.form.
func sealPlain(e *env, file string, d *manifest.Doc, spec sealSpec) error {
	values, err := preparePlain(d, spec.namespace, spec.allowEmpty)
	if err != nil {
		return err
	}
	scope, rcpts, err := spec.target.resolve(e, file, d, spec.scope)
	if err != nil {
		return d.Err(err)
	}
	if err := checkNamespace(scope, d.Target()); err != nil {
		return d.Err(err)
	}
	s, err := crypto.Seal(e.ctx, rand.Reader, scope, d.Target(), values, rcpts)
	if err != nil {
		return d.Err(err)
	}
	if spec.form == formEncrypted {
		return d.ToEncrypted(s)
	}
	return d.ToSealedSecret(s)
}

// preparePlain readies the plain Secret d for sealing and returns its
// values: server metadata and last-applied copies go (before anything
// reads the template), the namespace is given, and the values must fit in
// a Secret. The name and namespace are what the API server accepts:
// manifest.Parse refuses any other, and Doc.SetNamespace any other
// namespace.
func preparePlain(d *manifest.Doc, namespace func(*manifest.Doc) error, allowEmpty bool) (map[string][]byte, error) {
	if _, err := d.StripServerMetadata(); err != nil {
		return nil, err
	}
	if namespace != nil {
		if err := namespace(d); err != nil {
			return nil, d.Err(err)
		}
	}
	values, err := d.Plain()
	if err != nil {
		return nil, err
	}
	if len(values) == 0 && !allowEmpty {
		return nil, d.Err(hintError{errors.New("no data: a Secret without values"), "add values, or pass --allow-empty-data"})
	}
	if err := checkSecretSize(values); err != nil {
		return nil, d.Err(err)
	}
	return values, nil
}

// writeSealed writes s back into the sealed document d. What the API
// server writes and the commitment does not cover goes. tmpl, when not
// nil, is the template s was sealed under (only a command holding a key
// can seal under another template); nil keeps d's.
func writeSealed(d *manifest.Doc, s *crypto.Sealed, tmpl *crypto.Template) error {
	if _, err := d.StripUnsealedMetadata(); err != nil {
		return err
	}
	if tmpl != nil {
		if err := d.SetTemplate(*tmpl); err != nil {
			return err
		}
	}
	return d.SetSealed(s)
}

// templateFor is the template a command holding a key seals the opened
// object o under: its own, less any last-applied copy an object sealed
// before the pipeline stripped them may carry. changed reports whether
// that differs from what o was sealed under, which makes the re-seal a
// template change.
func templateFor(o *crypto.Opened) (tmpl crypto.Template, changed bool) {
	old := o.Target().Template
	tmpl = manifest.WithoutLastApplied(old)
	return tmpl, len(tmpl.Annotations) != len(old.Annotations)
}

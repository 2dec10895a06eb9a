package cli

import (
	"crypto/rand"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// compactOptions are the flags of compact beyond every rekey command's.
type compactOptions struct {
	target recipientSource
}

func newCompactCmd(e *env) *cobra.Command {
	opts := &compactOptions{}
	cmd := newRekeyCmd(e, "compact", "Fold the sections that set, unset and edit added into one, for the same recipients", &opts.target, opts.rekey)
	cmd.Long = `compact opens every sealed object with a key and, when set, unset or edit
left several sections (removed values' records, sections whose values were
all replaced), seals its values again in one section under a fresh data key,
for the same recipients and template. Objects of one section pass unchanged.
The recipients' public keys come from your identities, KMS key IDs, the
policy's keys and --recipient/--recipients-file. kseal inspect shows what
compact would fold; rotate does the same for a new recipient list.`
	cmd.Example = `  kseal compact -i db.yaml
  kseal compact --dry-run -R -i k8s/`
	return cmd
}

// rekey is compact's rekeyFunc: an object of several sections (or with
// removal records) sealed again in one, for the recipients it has; nil for
// one that is compact already.
func (opts *compactOptions) rekey(e *env, in *input, d *manifest.Doc, s *crypto.Sealed, o *crypto.Opened, ids []keys.Identity) (*crypto.Sealed, *crypto.Template, error) {
	if !compactable(s) {
		return nil, nil, nil
	}
	pool, err := compactPool(e, &opts.target, fileName(in), d)
	if err != nil {
		return nil, nil, err
	}
	kept, err := keptKeyIDs(s, nil)
	if err != nil {
		return nil, nil, err
	}
	rcpts, err := publicKeysFor(kept, pool, ids)
	if err != nil {
		return nil, nil, err
	}
	// A fresh data key: values written by key-less set (whose
	// writers may know their sections' keys) never move under a
	// key someone else chose.
	ns, err := crypto.Seal(e.ctx, rand.Reader, o.Scope(), o.Target(), o.Values, rcpts)
	return ns, nil, err
}

// compactable reports whether s holds more than one section or a removal
// record.
func compactable(s *crypto.Sealed) bool {
	return len(s.Envelope.Sections) > 1 || len(s.Envelope.Sections[0].Removed) > 0
}

// compactPool gathers public keys to find the object's recipients among:
// the flags' and the policy's for the file.
func compactPool(e *env, t *recipientSource, file string, d *manifest.Doc) ([]keys.Recipient, error) {
	pool, err := t.pool(e)
	if err != nil {
		return nil, err
	}
	p, err := t.policyFor(file)
	if err != nil || p == nil {
		return pool, err
	}
	rule, err := p.RuleFor(file)
	if err != nil || rule == nil {
		return pool, err
	}
	rs, err := p.Recipients(rule.Keys)
	if err != nil {
		return nil, err
	}
	return append(pool, rs...), nil
}

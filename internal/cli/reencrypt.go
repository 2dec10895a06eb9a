package cli

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/manifest"
)

// reencryptOptions are the flags of reencrypt beyond every rekey command's.
type reencryptOptions struct {
	target recipientSource
	add    []string
	rm     []string
}

func newReencryptCmd(e *env) *cobra.Command {
	opts := &reencryptOptions{}
	cmd := newRekeyCmd(e, "reencrypt", "Seal to a new recipient list (or the policy's), or add or remove one; a removed recipient gets no new data key", &opts.target, opts.rekey)
	opts.target.scope.register(cmd, rescopeUsage)
	cmd.Long = `reencrypt opens every sealed object with a key and seals it again.

With --recipient/--recipients-file (or the policy's keys), the object is
sealed to exactly that list. With --add-recipient or --rm-recipient (no
policy, like sops updatekeys/--add-age/--rm-age), the other recipients stay.

Adding to an object of one section keeps its data key and every value
ciphertext (the new recipient gets a wrap of it). An object of several
sections (after set, unset or edit) is sealed again in one section under a
fresh data key instead: committing its sections anew for the new recipient
would let anyone drop the later ones and bring back values they replaced.
Removing follows the revocation rule: a fresh data key, every value sealed
again in one section, wrapped to the recipients that stay, so nothing
written from now on opens with a key the removed one held. A fresh data key
needs the public key of every recipient that stays: kseal finds them among
your identities, among KMS key IDs (which name their key), and in
--recipient/--recipients-file.

With --scope, the object is sealed again under that scope: every value
under a fresh data key (each value's ciphertext binds the scope), for the
recipients as above. kseal.yaml is asked as seal asks it; policy check
reports a scope a shared entry does not allow.`
	cmd.Example = `  kseal reencrypt --add-recipient age1… -i db.yaml
  kseal reencrypt --rm-recipient 3a620bda526442be --recipients-file team.pub -i db.yaml
  kseal reencrypt --scope namespace -i db.yaml   # allow renames (kustomize namePrefix)`
	cmd.Flags().StringArrayVar(&opts.add, "add-recipient", nil, "recipient to add, keeping the others (repeatable)")
	cmd.Flags().StringArrayVar(&opts.rm, "rm-recipient", nil, "recipient or key ID to remove, keeping the others (repeatable; a fresh data key for every value)")
	return cmd
}

// rekey is reencrypt's rekeyFunc: o sealed to the recipients the policy or
// the flags name, or to its own with --add-recipient and --rm-recipient
// applied; under a new scope with --scope.
func (opts *reencryptOptions) rekey(e *env, in *input, d *manifest.Doc, s *crypto.Sealed, o *crypto.Opened, ids []keys.Identity) (*crypto.Sealed, *crypto.Template, error) {
	scope := opts.target.scope.or(o.Scope())
	if len(opts.add) == 0 && len(opts.rm) == 0 {
		rcpts, err := opts.target.recipients(e, fileName(in), d)
		if err != nil {
			return nil, nil, err
		}
		if scope != o.Scope() {
			return rescope(e, o, scope, rcpts)
		}
		ns, err := o.Rewrap(e.ctx, rand.Reader, rcpts)
		return ns, nil, err
	}
	if scope != o.Scope() {
		rcpts, err := keptRecipients(e, &opts.target, in, s, ids, opts.add, opts.rm)
		if err != nil {
			return nil, nil, err
		}
		return rescope(e, o, scope, rcpts)
	}
	ns, err := addRemoveRecipients(e, &opts.target, in, d, s, o, ids, opts.add, opts.rm)
	return ns, nil, err
}

// addRemoveRecipients applies --add-recipient and --rm-recipient to one
// opened object.
func addRemoveRecipients(e *env, t *recipientSource, in *input, d *manifest.Doc, s *crypto.Sealed, o *crypto.Opened, ids []keys.Identity, add, rm []string) (*crypto.Sealed, error) {
	adding, removing, err := recipientChanges(t, in, s, add, rm)
	if err != nil {
		return nil, err
	}
	if len(removing) == 0 && len(s.Envelope.Sections) == 1 {
		return o.AddRecipients(e.ctx, adding)
	}
	rcpts, err := staying(e, t, s, ids, adding, removing)
	if err != nil {
		return nil, err
	}
	// Rewrap draws a fresh data key for everything when a recipient goes,
	// or when one is added to an object of several sections.
	return o.Rewrap(e.ctx, rand.Reader, rcpts)
}

// keptRecipients is the whole recipient list --add-recipient and
// --rm-recipient make of s's: what a fresh data key is wrapped to.
func keptRecipients(e *env, t *recipientSource, in *input, s *crypto.Sealed, ids []keys.Identity, add, rm []string) ([]keys.Recipient, error) {
	adding, removing, err := recipientChanges(t, in, s, add, rm)
	if err != nil {
		return nil, err
	}
	return staying(e, t, s, ids, adding, removing)
}

// recipientChanges parses --add-recipient and --rm-recipient for s: the
// recipients to add and the key IDs to remove.
func recipientChanges(t *recipientSource, in *input, s *crypto.Sealed, add, rm []string) ([]keys.Recipient, []string, error) {
	p, err := t.policyFor(fileName(in))
	if err != nil {
		return nil, nil, err
	}
	if p != nil {
		return nil, nil, hintError{fmt.Errorf("%s decides the recipients of this file: --add-recipient and --rm-recipient are refused", p.Path),
			"change the keys in the policy and run kseal reencrypt, or pass --no-policy"}
	}
	var adding []keys.Recipient
	for _, a := range add {
		r, err := keys.ParseRecipient(a)
		if err != nil {
			return nil, nil, usagef("--add-recipient: %v", err)
		}
		adding = append(adding, r)
	}
	has := s.Envelope.KeyIDs()
	var removing []string
	for _, r := range rm {
		id := r
		if rc, err := keys.ParseRecipient(r); err == nil {
			id = rc.KeyID()
		}
		if !slices.Contains(has, id) {
			return nil, nil, fmt.Errorf("--rm-recipient %q: the object is not sealed to it (it has %s)", id, strings.Join(has, ", "))
		}
		removing = append(removing, id)
	}
	for _, r := range adding {
		if slices.Contains(removing, r.KeyID()) {
			return nil, nil, usagef("recipient %s is both added and removed", r.KeyID())
		}
	}
	return adding, removing, nil
}

// staying is every recipient of s but those removing names, and adding:
// their public keys, found as publicKeysFor finds them.
func staying(e *env, t *recipientSource, s *crypto.Sealed, ids []keys.Identity, adding []keys.Recipient, removing []string) ([]keys.Recipient, error) {
	kept, err := keptKeyIDs(s, removing)
	if err != nil {
		return nil, err
	}
	var stay []string
	for _, id := range kept {
		if !slices.Contains(removing, id) {
			stay = append(stay, id)
		}
	}
	pool, err := t.pool(e)
	if err != nil {
		return nil, err
	}
	rcpts, err := publicKeysFor(stay, append(pool, adding...), ids)
	if err != nil {
		return nil, err
	}
	rcpts = append(rcpts, adding...)
	if len(rcpts) == 0 {
		return nil, errors.New("removing every recipient would leave nobody able to open the object")
	}
	return rcpts, nil
}

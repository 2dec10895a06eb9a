package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// EnvRecipientsFile names a recipients file used when no recipient flag is
// given, e.g. the cluster recipients saved by `kseal fetch-recipients`.
const EnvRecipientsFile = "KSEAL_RECIPIENTS_FILE"

type recipientFlags struct {
	recipients []string
	files      []string
}

func (r *recipientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&r.recipients, "recipient", "r", nil, "recipient to seal to, by prefix: "+strings.Join(keys.RecipientPrefixes(), ", ")+" (repeatable)")
	cmd.Flags().StringArrayVar(&r.files, "recipients-file", nil, "file of recipients, one per line (repeatable; default $"+EnvRecipientsFile+")")
}

// resolve parses the recipients given by flags, or by $KSEAL_RECIPIENTS_FILE
// when there are none.
func (r *recipientFlags) resolve(e *env) ([]keys.Recipient, error) {
	files := r.files
	if len(r.recipients) == 0 && len(files) == 0 {
		if f := e.getenv(EnvRecipientsFile); f != "" {
			files = []string{f}
		}
	}
	var out []keys.Recipient
	for _, s := range r.recipients {
		rc, err := keys.ParseRecipient(s)
		if err != nil {
			return nil, usagef("--recipient: %v", err)
		}
		out = append(out, rc)
	}
	for _, f := range files {
		b, _, err := readRegular(f)
		if err != nil {
			return nil, err
		}
		rs, err := keys.ParseRecipients(bytes.NewReader(b), f)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	if len(out) == 0 {
		return nil, hintError{errors.New("no recipients"), "pass --recipient age1…, --recipients-file FILE, or set $" + EnvRecipientsFile}
	}
	return out, nil
}

type identityFlags struct {
	files []string
}

func (i *identityFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&i.files, "identity", nil, "identity file to open with (repeatable); also $KSEAL_AGE_KEY_FILE, $KSEAL_AGE_KEY and ~/.config/kseal/keys.txt")
}

// defaultIdentityFile is read when it exists, like sops' age keys.txt.
func defaultIdentityFile(e *env) string {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "kseal", "keys.txt")
}

// resolve gathers identities from --identity, the registered default sources
// and the default identity file. It records in e where it looked and which
// key IDs it found, for the error when no identity opens an object.
func (i *identityFlags) resolve(e *env) ([]keys.Identity, error) {
	var ids []keys.Identity
	var looked []string
	for _, f := range i.files {
		got, err := keys.ParseIdentityFile(f)
		if err != nil {
			return nil, fmt.Errorf("--identity: %w", err)
		}
		looked = append(looked, fmt.Sprintf("--identity %s (%s)", f, countKeys(got)))
		ids = append(ids, got...)
	}
	if len(i.files) == 0 {
		looked = append(looked, "--identity (not given)")
	}
	for _, v := range []string{agekey.EnvKeyFile, agekey.EnvKey} {
		state := "unset"
		if e.getenv(v) != "" {
			state = "set"
		}
		looked = append(looked, fmt.Sprintf("$%s (%s)", v, state))
	}
	got, err := keys.DefaultIdentities(e.ctx)
	if err != nil {
		return nil, err
	}
	ids = append(ids, got...)
	if f := defaultIdentityFile(e); f != "" {
		if _, err := os.Stat(f); err == nil {
			got, err := keys.ParseIdentityFile(f)
			if err != nil {
				return nil, err
			}
			looked = append(looked, fmt.Sprintf("%s (%s)", f, countKeys(got)))
			ids = append(ids, got...)
		} else {
			looked = append(looked, f+" (not found)")
		}
	}
	var loaded []string
	for _, id := range ids {
		if k, ok := id.(interface{ KeyID() string }); ok && !keys.IsRemote(id) {
			loaded = append(loaded, k.KeyID())
		}
	}
	note := "looked for identities in " + strings.Join(looked, ", ") + "; "
	if len(loaded) == 0 {
		note += "no age identity loaded (no key, rather than a wrong one)"
	} else {
		note += "loaded age key IDs " + strings.Join(loaded, ", ") + ", none of which the object is sealed to (a wrong key)"
	}
	e.identityNote = note
	return ids, nil
}

func countKeys(ids []keys.Identity) string {
	if len(ids) == 1 {
		return "1 identity"
	}
	return fmt.Sprintf("%d identities", len(ids))
}

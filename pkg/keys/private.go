package keys

import (
	"fmt"
	"strings"
	"unicode"
)

// Private key material given where a recipient is expected (a pasted
// AGE-SECRET-KEY line, a PEM private key) must be recognised before any
// provider parses it: provider errors quote their input, and errors end up
// in CI logs.

// privateKeyForm names the kind of private key s holds, or returns "".
// Registered identity prefixes are looked for anywhere in s (a key pasted
// after a recipient, on the same line or after a comma, is still a key) and
// compared without regard to case, since bech32 keys are case-insensitive.
func privateKeyForm(s string) string {
	up := strings.ToUpper(s)
	registry.RLock()
	defer registry.RUnlock()
	for p := range registry.identities {
		if keyAfter(up, strings.ToUpper(p)) {
			return "an identity (" + p + "…)"
		}
	}
	if strings.Contains(up, "PRIVATE KEY") {
		return "a PEM private key"
	}
	return ""
}

// errPrivateKey is the error for a private key given as a recipient. It
// never contains the key.
func errPrivateKey(form string) error {
	return fmt.Errorf("this is %s, a private key, not a recipient (it is not shown and was not used): give its public recipient instead (kseal keygen and age-keygen -y print it), and treat the key as exposed if it was pasted anywhere shared", form)
}

// typePrefix returns the part of an unknown recipient string that names its
// type, and nothing of what follows: an SSH key type ("ssh-ed25519 AAAA…"),
// or the leading letters and dashes (at most 5) when a type separator
// follows them (':', '1' as in bech32, '_'); otherwise nothing, since the
// string may be a secret (a passphrase's first word, a token).
func typePrefix(s string) string {
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 && i <= 20 && isSSHKeyType(s[:i]) {
		return s[:i]
	}
	end := 0
	for end < len(s) && end < 6 && (s[end] == '-' || ('a' <= s[end]|0x20 && s[end]|0x20 <= 'z')) {
		end++
	}
	if end > 5 {
		return "" // a word, not a type tag: it may begin a password
	}
	if end < len(s) && strings.IndexByte(":1_", s[end]) >= 0 {
		return s[:end+1]
	}
	// No type separator after the letters: they may be the start of a
	// secret (an AWS secret key, a token), so nothing is shown.
	return ""
}

// isSSHKeyType reports whether w names an SSH public key type.
func isSSHKeyType(w string) bool {
	for _, p := range []string{"ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-"} {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// keyAfter reports whether up holds prefix followed by key material: at
// least 16 characters of letters, digits or dashes (a key ring named
// "age-secret-key-ring" is no key; "AGE-SECRET-KEY-1QQ…" is).
func keyAfter(up, prefix string) bool {
	for i := strings.Index(up, prefix); i >= 0; {
		rest := up[i+len(prefix):]
		n := 0
		for n < len(rest) && (rest[n] == '-' || ('A' <= rest[n] && rest[n] <= 'Z') || ('0' <= rest[n] && rest[n] <= '9')) {
			n++
		}
		if n >= 16 {
			return true
		}
		j := strings.Index(rest, prefix)
		if j < 0 {
			return false
		}
		i += len(prefix) + j
	}
	return false
}

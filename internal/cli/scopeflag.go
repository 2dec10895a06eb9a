package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/crypto"
)

// scopeFlag is a --scope flag, checked when the flag is parsed: a scope
// kseal does not know (--scope wide) is a usage error before any file is
// read, also when no document would ever be sealed with it (an input of
// sealed objects only). Every command with a --scope flag uses this type,
// so the flag is spelt and checked the same everywhere.
type scopeFlag struct {
	scope crypto.Scope // "" until the flag is given
}

// scopeUsage is the --scope help text of the commands that seal.
const scopeUsage = "what the ciphertext is bound to: strict (namespace and name, default), namespace, shared (the name only: default for shared secrets of the policy) or cluster"

// register adds f to cmd as --scope, with usage as its help.
func (f *scopeFlag) register(cmd *cobra.Command, usage string) {
	cmd.Flags().Var(f, "scope", usage)
}

// Set implements pflag.Value: only a scope ParseScope knows, never empty.
func (f *scopeFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty (want strict, namespace, shared or cluster)")
	}
	s, err := crypto.ParseScope(v)
	if err != nil {
		return err
	}
	f.scope = s
	return nil
}

// String implements pflag.Value.
func (f *scopeFlag) String() string { return string(f.scope) }

// Type implements pflag.Value.
func (f *scopeFlag) Type() string { return "scope" }

// given reports whether --scope was passed.
func (f *scopeFlag) given() bool { return f.scope != "" }

// or returns the scope passed, or def when none was.
func (f *scopeFlag) or(def crypto.Scope) crypto.Scope {
	if f.given() {
		return f.scope
	}
	return def
}

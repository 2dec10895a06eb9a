// Package cli implements the kseal command line. main only calls Main, so
// every command is testable in process and through the built binary.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/internal/version"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// Exit codes, documented in docs/cli.md.
const (
	ExitOK       = 0
	ExitError    = 1 // bad input, I/O, a key service failure
	ExitUsage    = 2 // bad flags or arguments
	ExitNoOpen   = 3 // integrity failure, or no identity opens an object
	ExitFindings = 4 // `policy check` found problems
)

// env is what a command needs from the outside world.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	// identityNote says where identities were looked for and which key
	// IDs were found; printed when no identity opens an object.
	identityNote string
	stdinOnce    stdinOnce
	ran          bool // a command's RunE started: arguments and flags were valid
}

// usageError marks errors in how kseal was called.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// hintError carries a hint printed after the error.
type hintError struct {
	error
	hint string
}

func (h hintError) Unwrap() error { return h.error }

// Main runs kseal with args (without the program name) and returns the exit
// code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := newRoot(e)
	asKubectlPlugin(root, programName())
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var child childExit
	if errors.As(err, &child) {
		return child.code // the command said what it had to
	}
	// Errors quote input (file names, key IDs): escaped, so that no
	// control character from it reaches the terminal (escape.go).
	fmt.Fprintf(stderr, "kseal: error: %s\n", strings.Join(errorLines(err), "\n"))
	var h hintError
	if errors.As(err, &h) {
		fmt.Fprintf(stderr, "kseal: hint: %s\n", printable(h.hint))
	}
	var nm *keys.NoIdentityMatchError
	if errors.As(err, &nm) && nm.Unclaimed() && e.identityNote != "" {
		fmt.Fprintf(stderr, "kseal: %s\n", printable(e.identityNote))
	}
	if !e.ran {
		// cobra refused the call before any command ran: an unknown
		// command, a wrong number of arguments, a missing required flag.
		return ExitUsage
	}
	return exitCode(err)
}

// exitError carries an explicit exit code.
type exitError struct {
	code int
	error
}

func (x exitError) Unwrap() error { return x.error }

func exitCode(err error) int {
	var u usageError
	var nm *keys.NoIdentityMatchError
	var x exitError
	switch {
	case errors.As(err, &x):
		return x.code
	case errors.As(err, &u):
		return ExitUsage
	case errors.Is(err, crypto.ErrIntegrity), errors.As(err, &nm), errors.Is(err, crypto.ErrFormat), errors.Is(err, keys.ErrUnwrapBudget):
		return ExitNoOpen
	}
	return ExitError
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "kseal",
		Short: "Seal Kubernetes Secrets for git: envelope encryption with age, cluster and cloud KMS keys",
		Long: `kseal envelope-encrypts the values of Kubernetes Secret manifests so they can
be committed to git, and opens them again for CI or in the cluster.

Files are given with -f (repeatable) or as arguments; with none, kseal reads
standard input and writes standard output. -i rewrites files in place
(atomically), -R walks directories.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Get().String(),
	}
	root.SetVersionTemplate("kseal {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	defer markRan(e, root)
	defer applyExamples(root)
	defer registerCompletions(root)
	root.AddCommand(
		newSealCmd(e),
		newEncryptCmd(e),
		newCreateCmd(e),
		newDecryptCmd(e),
		newEditCmd(e),
		newSetCmd(e),
		newUnsetCmd(e),
		newReencryptCmd(e),
		newRotateCmd(e),
		newCompactCmd(e),
		newInspectCmd(e),
		newVerifyCmd(e),
		newExtractCmd(e),
		newExecEnvCmd(e),
		newExecFileCmd(e),
		newStatusCmd(e),
		newKeygenCmd(e),
		newFetchRecipientsCmd(e),
		newKeysCmd(e),
		newPolicyCmd(e),
		newKRMCmd(e),
		newImportCmd(e),
		newDiffViewCmd(e),
		newMergeDriverCmd(e),
		newVersionCmd(e),
	)
	return root
}

// markRan makes every command record that it ran: an error before that is
// cobra's (an unknown command, a wrong number of arguments, a missing
// required flag), so a usage error.
func markRan(e *env, c *cobra.Command) {
	if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
		// A command group (kseal policy, kseal keys): cobra would print
		// its help and exit 0 for "kseal policy nope".
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		}
	} else if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			e.ran = true
			return run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markRan(e, sub)
	}
}

// newVersionCmd is `kseal version`.
func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and envelope format version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runVersion(e)
		},
	}
}

// runVersion prints the version line, the same one as --version.
func runVersion(e *env) error {
	_, err := fmt.Fprintf(e.stdout, "kseal %s\n", version.Get())
	return err
}

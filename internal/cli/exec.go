package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"kseal.dev/kseal/pkg/manifest"
)

// commandArgs splits FILE -- COMMAND [ARG]... as cobra passed it.
func commandArgs(cmd *cobra.Command, args []string) (string, []string, error) {
	if cmd.ArgsLenAtDash() != 1 || len(args) < 2 {
		return "", nil, usagef("want FILE -- COMMAND [ARG]...")
	}
	return args[0], args[1:], nil
}

// execEnvOptions are the flags of exec-env.
type execEnvOptions struct {
	ids    identityFlags
	name   string
	choice execEnvChoice
}

func newExecEnvCmd(e *env) *cobra.Command {
	o := &execEnvOptions{}
	cmd := &cobra.Command{
		Use:   "exec-env FILE (--only KEY[,KEY]... | --prefix PREFIX | --allow-any) -- COMMAND [ARG]...",
		Short: "Run a command with chosen values of a sealed object in its environment, like sops exec-env",
		Long: `exec-env verifies and opens the sealed object in FILE (the one named with
--name when FILE holds several) and runs COMMAND (no shell) with values of it
as environment variables, on top of kseal's own environment. The plaintext
never touches the disk. kseal exits with the command's status; signals kseal
receives are passed on to the command.

Anyone with the public key can seal an object, and a variable such as
XDG_CONFIG_HOME, PYTHONWARNINGS or LD_PRELOAD makes the command run what
the sealer wants, so you choose the names:

  --only KEY[,KEY]...  export these keys (repeatable), under their own names
  --prefix PREFIX      export every key K (or every --only key) as PREFIX+K;
                       choose a prefix only your program reads, such as APP_
  --allow-any          export every key under its own name, refusing only
                       those on a list of known steering variables (PATH,
                       HOME, LD_*, GIT_*, PYTHON*, XDG_*, AWS_*, ...): such a
                       list is never complete

A key that makes no shell variable name ([A-Za-z_][A-Za-z0-9_]*) and a value
holding a NUL byte are refused; nothing runs then.`,
		Example: `  kseal exec-env db.yaml --only password -- sh -c 'psql "postgres://app:$password@db/app"'
  kseal exec-env app.yaml --prefix APP_ -- ./server   # sees APP_DATABASE_URL, APP_TOKEN, ...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, argv, err := commandArgs(cmd, args)
			if err != nil {
				return err
			}
			return runExecEnv(e, o, file, argv)
		},
	}
	o.ids.register(cmd)
	cmd.Flags().StringVar(&o.name, "name", "", "which object, when the file holds several")
	cmd.Flags().StringSliceVar(&o.choice.only, "only", nil, "export only these sealed keys (repeatable, or comma-separated); each must exist")
	cmd.Flags().StringVar(&o.choice.prefix, "prefix", "", "export each sealed key K as PREFIX+K (every key, or the --only ones)")
	cmd.Flags().BoolVar(&o.choice.allowAny, "allow-any", false, "export every sealed key under its own name, refusing only known steering variables (a denylist, never complete)")
	return cmd
}

// runExecEnv runs argv with the chosen values of the sealed object of file
// in its environment.
func runExecEnv(e *env, o *execEnvOptions, file string, argv []string) error {
	if err := o.choice.check(); err != nil {
		return err
	}
	in, d, op, err := openOne(e, &o.ids, file, o.name)
	if err != nil {
		return err
	}
	vars, err := o.choice.vars(op.Values)
	if err != nil {
		return fmt.Errorf("%s: %w", in.name, d.Err(err))
	}
	return runChild(e, argv, append(os.Environ(), vars...))
}

// execFileOptions are the flags of exec-file.
type execFileOptions struct {
	ids identityFlags
}

func newExecFileCmd(e *env) *cobra.Command {
	o := &execFileOptions{}
	cmd := &cobra.Command{
		Use:   "exec-file FILE -- COMMAND [ARG]... {} [ARG]...",
		Short: "Run a command on the decrypted file in a private temporary file, like sops exec-file",
		Long: `exec-file verifies and opens every sealed object in FILE and writes what
kseal decrypt would print to a 0600 file in a fresh 0700 directory (on tmpfs
when there is one: $XDG_RUNTIME_DIR, else /dev/shm, as edit does), then runs
COMMAND (no shell) with every {} replaced by that file's path. The directory
is removed when the command ends, also when kseal is stopped by SIGHUP,
SIGINT, SIGQUIT or SIGTERM (which it passes on to the command first).
kseal exits with the command's status.`,
		Example: `  kseal exec-file db.yaml -- kubectl apply -f {}`,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, argv, err := commandArgs(cmd, args)
			if err != nil {
				return err
			}
			return runExecFile(e, o, file, argv)
		},
	}
	o.ids.register(cmd)
	return cmd
}

// runExecFile runs argv on a private temporary file holding file
// decrypted, removed when the command ends.
func runExecFile(e *env, o *execFileOptions, file string, argv []string) error {
	if !slices.ContainsFunc(argv, func(a string) bool { return strings.Contains(a, "{}") }) {
		return usagef("no {} in the command: it stands for the decrypted file's path")
	}
	text, err := decryptedText(e, &o.ids, file)
	if err != nil {
		return err
	}
	// Signals are caught before the plaintext is written, so a stop
	// at any moment still removes it.
	sigs := notifySignals()
	defer signal.Stop(sigs)
	dir, err := privateDir(e)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// A fixed name: the input's name may hold shell syntax, and
	// {} often ends up in sh -c.
	path := filepath.Join(dir, "secret"+textExt(text))
	if err := os.WriteFile(path, text, 0o600); err != nil {
		return err
	}
	for i, a := range argv {
		argv[i] = strings.ReplaceAll(a, "{}", path)
	}
	return runChildSigs(e, argv, os.Environ(), sigs)
}

// decryptedText is file with every sealed object opened into the plain
// Secret it stands for, as kseal decrypt prints it.
func decryptedText(e *env, idf *identityFlags, file string) ([]byte, error) {
	ids, err := idf.resolve(e)
	if err != nil {
		return nil, err
	}
	in, err := readOne(e, file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	opened := 0
	for _, d := range in.strm.Docs {
		if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
			continue
		}
		_, o, err := openDoc(e, d, ids)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		if err := d.ToPlain(o.Values); err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		opened++
	}
	if opened == 0 {
		return nil, fmt.Errorf("%s: no sealed objects", in.name)
	}
	text, err := in.strm.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.name, err)
	}
	return text, nil
}

// childExit ends kseal with a command's exit status, printing nothing.
type childExit struct{ code int }

func (c childExit) Error() string { return fmt.Sprintf("command exited with status %d", c.code) }

// runChild runs argv with env, passing standard streams through and the
// signals kseal receives on, and returns the command's status as a
// childExit (nil for 0). kseal itself does not die of those signals, so the
// caller's deferred clean-up runs.
func runChild(e *env, argv []string, env []string) error {
	sigs := notifySignals()
	defer signal.Stop(sigs)
	return runChildSigs(e, argv, env, sigs)
}

// notifySignals catches the signals runChild passes on; the caller stops
// it.
func notifySignals() chan os.Signal {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, editSignals...)
	return sigs
}

// textExt is the extension of a file holding text: .json for JSON, else
// .yaml.
func textExt(text []byte) string {
	if t := bytes.TrimLeft(text, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return ".json"
	}
	return ".yaml"
}

// runChildSigs is runChild with signals caught by the caller (see
// notifySignals). A signal caught before the command starts stops kseal
// without running it.
func runChildSigs(e *env, argv []string, env []string, sigs chan os.Signal) error {
	select {
	case sig := <-sigs:
		s, _ := sig.(syscall.Signal)
		return exitError{128 + int(s), fmt.Errorf("%v: stopped before the command ran", sig)}
	default:
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = env
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, e.stdout, e.stderr
	if f, ok := e.stdin.(*os.File); ok {
		c.Stdin = f
	}
	if err := c.Start(); err != nil {
		return exitError{ExitError, fmt.Errorf("command %q: %w", argv[0], err)}
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var err error
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case sig := <-sigs:
			_ = c.Process.Signal(sig)
		}
	}
	if err == nil {
		return nil
	}
	var x *exec.ExitError
	if errors.As(err, &x) {
		if st, ok := x.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return childExit{128 + int(st.Signal())}
		}
		return childExit{x.ExitCode()}
	}
	return err
}

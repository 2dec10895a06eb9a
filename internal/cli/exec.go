package cli

import (
	"errors"
	"fmt"
	"maps"
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

func newExecEnvCmd(e *env) *cobra.Command {
	var idf identityFlags
	var name string
	cmd := &cobra.Command{
		Use:   "exec-env FILE -- COMMAND [ARG]...",
		Short: "Run a command with the values of a sealed object in its environment, like sops exec-env",
		Long: `exec-env verifies and opens the sealed object in FILE (the one named with
--name when FILE holds several) and runs COMMAND (no shell) with each value
as an environment variable named after its key, on top of kseal's own
environment. The plaintext never touches the disk. kseal exits with the
command's status; signals kseal receives are passed on to the command.`,
		Example: `  kseal exec-env db.yaml -- sh -c 'psql "postgres://app:$password@db/app"'`,
	}
	idf.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "which object, when the file holds several")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		file, argv, err := commandArgs(cmd, args)
		if err != nil {
			return err
		}
		in, d, o, err := openOne(e, &idf, file, name)
		if err != nil {
			return err
		}
		env := os.Environ()
		for _, k := range slices.Sorted(maps.Keys(o.Values)) {
			v := o.Values[k]
			if strings.IndexByte(string(v), 0) >= 0 {
				return fmt.Errorf("%s: %w", in.name, d.Err(fmt.Errorf("data.%s: holds a NUL byte, which an environment variable cannot (use exec-file)", k)))
			}
			env = append(env, k+"="+string(v))
		}
		return runChild(e, argv, env)
	}
	return cmd
}

func newExecFileCmd(e *env) *cobra.Command {
	var idf identityFlags
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
	}
	idf.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		file, argv, err := commandArgs(cmd, args)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(argv, func(a string) bool { return strings.Contains(a, "{}") }) {
			return usagef("no {} in the command: it stands for the decrypted file's path")
		}
		ids, err := idf.resolve(e)
		if err != nil {
			return err
		}
		in, err := readOne(e, file)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		opened := 0
		for _, d := range in.strm.Docs {
			if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
				continue
			}
			_, o, err := openDoc(e, d, ids)
			if err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
			if err := d.ToPlain(o.Values); err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
			opened++
		}
		if opened == 0 {
			return fmt.Errorf("%s: no sealed objects", in.name)
		}
		text, err := in.strm.Bytes()
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		dir, err := privateDir(e)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, filepath.Base(in.name))
		if in.name == "<stdin>" {
			path = filepath.Join(dir, "secret.yaml")
		}
		if err := os.WriteFile(path, text, 0o600); err != nil {
			return err
		}
		for i, a := range argv {
			argv[i] = strings.ReplaceAll(a, "{}", path)
		}
		return runChild(e, argv, os.Environ())
	}
	return cmd
}

// privateDir makes a fresh 0700 directory for plaintext where edit puts
// its own (see editBase), removing stale ones of dead kseal processes.
func privateDir(e *env) (string, error) {
	base := editBase(e)
	removeStale(base)
	dir, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-", editDirPrefix, os.Getpid()))
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// childExit ends kseal with a command's exit status, printing nothing.
type childExit struct{ code int }

func (c childExit) Error() string { return fmt.Sprintf("command exited with status %d", c.code) }

// runChild runs argv with env, passing standard streams through and the
// signals kseal receives on, and returns the command's status as a
// childExit (nil for 0). kseal itself does not die of those signals, so the
// caller's deferred clean-up runs.
func runChild(e *env, argv []string, env []string) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, editSignals...)
	defer signal.Stop(sigs)
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

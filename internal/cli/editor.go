//go:build unix

package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

const editDirPrefix = "kseal-edit-"

// editBase is where the plaintext goes: tmpfs when there is one, so it
// never reaches a disk ($XDG_RUNTIME_DIR, then /dev/shm), else the
// temporary directory.
func editBase(e *env) string {
	for _, d := range []string{e.getenv("XDG_RUNTIME_DIR"), "/dev/shm"} {
		if d == "" {
			continue
		}
		if st, err := os.Stat(d); err == nil && st.IsDir() && unix.Access(d, unix.W_OK|unix.X_OK) == nil {
			return d
		}
	}
	return os.TempDir()
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

// removeStale removes the kseal-edit-PID-* directories in base that belong
// to this user and whose kseal process is gone (killed with SIGKILL, or a
// machine that lost power with a disk-backed temporary directory).
func removeStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, en := range entries {
		name := en.Name()
		if !en.IsDir() || !strings.HasPrefix(name, editDirPrefix) {
			continue
		}
		pidText, _, _ := strings.Cut(strings.TrimPrefix(name, editDirPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		info, err := en.Info()
		if err != nil {
			continue
		}
		if st, ok := info.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(filepath.Join(base, name))
		}
	}
}

// runEditor writes text to a 0600 file in a fresh 0700 directory, runs
// $KSEAL_EDITOR, $VISUAL or $EDITOR on it in a process group of its own,
// and returns what was saved. The directory is removed whatever happens: on
// SIGHUP, SIGINT, SIGQUIT or SIGTERM the editor's group gets the signal
// too, and kseal exits 128+signal without writing anything.
func runEditor(e *env, text string) (string, error) {
	editor := e.getenv("KSEAL_EDITOR")
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if editor == "" {
			editor = e.getenv(v)
		}
	}
	if editor == "" {
		editor = "vi"
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, editSignals...)
	defer signal.Stop(sigs)

	base := editBase(e)
	removeStale(base)
	dir, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-", editDirPrefix, os.Getpid()))
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return "", err
	}
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "kseal-editor", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, e.stderr
	if f, ok := e.stdin.(*os.File); ok {
		cmd.Stdin = f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	tty := -1
	if f, ok := cmd.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		// A terminal editor must be the terminal's foreground group to
		// read from it.
		tty = int(f.Fd())
		cmd.SysProcAttr = &syscall.SysProcAttr{Foreground: true, Ctty: tty}
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("editor %q: %w (nothing written)", editor, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case sig := <-sigs:
		return "", stopEditor(cmd.Process, sig, done, tty)
	case <-e.ctx.Done():
		// main cancels the context on SIGINT and SIGTERM: name the signal
		// when it is ours too.
		select {
		case sig := <-sigs:
			return "", stopEditor(cmd.Process, sig, done, tty)
		case <-time.After(100 * time.Millisecond):
		}
		stopGroup(cmd.Process, syscall.SIGTERM, done)
		restoreForeground(tty)
		return "", fmt.Errorf("%w: editor stopped, temporary plaintext removed, nothing written", e.ctx.Err())
	}
	restoreForeground(tty)
	if runErr != nil {
		return "", fmt.Errorf("editor %q: %w (nothing written)", editor, runErr)
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

// stopEditor ends the edit on sig: the editor's group gets it, and kseal
// exits 128+sig once the editor is gone (the caller removes the file).
func stopEditor(p *os.Process, sig os.Signal, done <-chan error, tty int) error {
	s := sig.(syscall.Signal)
	stopGroup(p, s, done)
	restoreForeground(tty)
	return exitError{128 + int(s), fmt.Errorf("%v: editor stopped, temporary plaintext removed, nothing written", sig)}
}

// stopGroup signals the editor's process group (its ID is the editor's
// PID) and waits for the editor, killing the group and the editor if it
// does not exit within five seconds.
func stopGroup(p *os.Process, sig syscall.Signal, done <-chan error) {
	pgid := p.Pid
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = p.Kill()
		<-done
	}
	// Whatever the editor left running in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// restoreForeground gives the terminal back to kseal's process group.
func restoreForeground(tty int) {
	if tty < 0 {
		return
	}
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, syscall.Getpgrp())
}

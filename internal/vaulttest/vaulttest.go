// Package vaulttest starts the real Vault server (a dev server, in memory,
// on loopback) that hack/tools.sh builds, and configures it for tests:
// transit keys, policies, Kubernetes auth against the test API server.
// Under CI=true a missing vault binary fails the test run, never skips it.
package vaulttest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RootToken is the dev server's root token.
const RootToken = "kseal-test-root"

// Binary returns the vault binary: $KSEAL_VAULT, else the tools cache.
func Binary() (string, error) {
	if b := os.Getenv("KSEAL_VAULT"); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("KSEAL_VAULT=%s: %w: run hack/tools.sh build", b, err)
		}
		return b, nil
	}
	home, _ := os.UserHomeDir()
	b := filepath.Join(home, ".cache", "kseal", "tools", "vault")
	if _, err := os.Stat(b); err != nil {
		return "", fmt.Errorf("no vault binary (KSEAL_VAULT unset, %s missing): run `make test` or `bash hack/tools.sh build`", b)
	}
	return b, nil
}

// Server is a running Vault dev server.
type Server struct {
	Addr      string // http://127.0.0.1:PORT
	bin       string
	dir       string
	cmd       *exec.Cmd
	unsealKey string
	done      chan struct{}
	mu        sync.Mutex
	log       bytes.Buffer
}

// Main starts a server for a TestMain. It returns nil outside CI when the
// binary is missing (the caller skips the Vault tests); under CI=true it
// exits the test binary with an error instead.
func Main() *Server {
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "skipping Vault tests: %v\n", err)
		return nil
	}
	s, err := Start(bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: starting vault: %v\n", err)
		os.Exit(1)
	}
	return s
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Shared starts one server per test binary on first use, for packages
// whose TestMain does not start one. It skips t (fails under CI=true) when
// the binary is missing. The server is killed when the test binary exits.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		bin, err := Binary()
		if err != nil {
			shared.err = err
			return
		}
		shared.s, shared.err = Start(bin)
	})
	if shared.err != nil {
		if _, err := Binary(); err != nil && os.Getenv("CI") != "true" {
			t.Skip(err)
		}
		t.Fatal(shared.err)
	}
	return shared.s
}

// Require skips (or, under CI=true, fails) t when s is nil.
func Require(t testing.TB, s *Server) {
	t.Helper()
	if s == nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no vault binary under CI=true")
		}
		t.Skip("no vault binary: run hack/tools.sh build")
	}
}

// Start runs `vault server -dev` on a free loopback port and waits until
// it answers.
func Start(bin string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp("", "kseal-vault-")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: "http://" + addr, bin: bin, dir: dir, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "server", "-dev", "-dev-listen-address", addr, "-dev-root-token-id", RootToken, "-dev-no-store-token")
	s.cmd.Env = append(os.Environ(), "HOME="+dir, "VAULT_ADDR=", "VAULT_TOKEN=")
	// The server dies with the test binary, even one that never calls Close.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = &lockedWriter{s: s}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if k, ok := strings.CutPrefix(strings.TrimSpace(line), "Unseal Key: "); ok {
				s.mu.Lock()
				s.unsealKey = k
				s.mu.Unlock()
			}
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
		}
		_ = s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("vault exited: %s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("vault did not come up: %v\n%s", err, s.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s, nil
}

type lockedWriter struct{ s *Server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.log.Write(p)
}

// Log returns the server's output so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Close stops the server.
func (s *Server) Close() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

// Env is the environment for the vault CLI (and kseal) as root.
func (s *Server) Env() []string {
	return []string{"VAULT_ADDR=" + s.Addr, "VAULT_TOKEN=" + RootToken}
}

// Vault runs the real vault CLI with args as root and returns its stdout.
// stdin, if not empty, is its input.
func (s *Server) Vault(stdin string, args ...string) (string, error) {
	return s.VaultAs(RootToken, stdin, args...)
}

// VaultAs runs the vault CLI with token.
func (s *Server) VaultAs(token, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = append(os.Environ(), "VAULT_ADDR="+s.Addr, "VAULT_TOKEN="+token, "HOME="+s.dir, "VAULT_FORMAT=")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("vault %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// MustVault runs the vault CLI as root and fails t on error.
func (s *Server) MustVault(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, err := s.Vault(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// EnableTransit mounts the transit engine at mount (once) and creates the
// named keys.
func (s *Server) EnableTransit(mount string, keyNames ...string) error {
	if _, err := s.Vault("", "secrets", "enable", "-path="+mount, "transit"); err != nil && !strings.Contains(err.Error(), "path is already in use") {
		return err
	}
	for _, k := range keyNames {
		if _, err := s.Vault("", "write", "-f", mount+"/keys/"+k); err != nil {
			return err
		}
	}
	return nil
}

// KeyURL is the recipient URL of a transit key on s.
func (s *Server) KeyURL(mount, name string) string {
	return s.Addr + "/v1/" + mount + "/keys/" + name
}

// Seal seals the server: every transit call then fails with 503.
func (s *Server) Seal() error {
	_, err := s.Vault("", "operator", "seal")
	return err
}

// Unseal unseals it again with the dev server's unseal key.
func (s *Server) Unseal() error {
	s.mu.Lock()
	k := s.unsealKey
	s.mu.Unlock()
	if k == "" {
		return errors.New("no unseal key seen in the dev server's output")
	}
	_, err := s.Vault("", "operator", "unseal", k)
	return err
}

// Token creates a token with the given policies and returns it.
func (s *Server) Token(policies ...string) (string, error) {
	args := []string{"token", "create", "-field=token", "-no-default-policy=false"}
	for _, p := range policies {
		args = append(args, "-policy="+p)
	}
	out, err := s.Vault("", args...)
	return strings.TrimSpace(out), err
}

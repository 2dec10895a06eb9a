package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
)

// A signal caught after exec-file wrote the plaintext but before the
// command started stops kseal without running the command, so the deferred
// clean-up removes the file (the handler is in place before the write).
func TestRunChildSignalBeforeStart(t *testing.T) {
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb, getenv: os.Getenv}
	sigs := notifySignals()
	defer signal.Stop(sigs)
	sigs <- syscall.SIGTERM
	marker := filepath.Join(t.TempDir(), "ran")
	err := runChildSigs(e, []string{"sh", "-c", "touch " + marker}, os.Environ(), sigs)
	var x exitError
	if !errors.As(err, &x) || x.code != 128+int(syscall.SIGTERM) {
		t.Fatalf("err = %v, want exit status %d", err, 128+int(syscall.SIGTERM))
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the command ran although kseal was stopped before it started")
	}
}

func TestTextExt(t *testing.T) {
	for text, want := range map[string]string{"{\"a\":1}": ".json", "\n [1]": ".json", "apiVersion: v1": ".yaml", "": ".yaml"} {
		if got := textExt([]byte(text)); got != want {
			t.Errorf("textExt(%q) = %q, want %q", text, got, want)
		}
	}
}

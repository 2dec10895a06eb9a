package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys/agekey"
)

// streamBench is a file of n Secrets of 3 values each and a key pair, as
// bench/cli-speed.sh times them as whole processes.
type streamBench struct {
	dir, in, sealed, pub, key string
}

func newStreamBench(b *testing.B, n int, x25519 bool) *streamBench {
	b.Helper()
	dir := b.TempDir()
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: bench\nstringData:\n  username: user%d\n  password: pw-%d-%08x\n  url: postgres://db%d.example:5432/app\n", i, i, i, i*2654435761, i)
	}
	s := &streamBench{dir: dir, in: filepath.Join(dir, "in.yaml"), sealed: filepath.Join(dir, "sealed.yaml"), pub: filepath.Join(dir, "k.pub"), key: filepath.Join(dir, "k.key")}
	id, err := agekey.Generate(x25519)
	if err != nil {
		b.Fatal(err)
	}
	for f, text := range map[string]string{s.in: in.String(), s.pub: id.Recipient() + "\n", s.key: id.SecretString() + "\n"} {
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	out := s.run(b, "seal", "--no-policy", "--recipients-file", s.pub, "-f", s.in)
	if err := os.WriteFile(s.sealed, out, 0o600); err != nil {
		b.Fatal(err)
	}
	return s
}

func (s *streamBench) run(b *testing.B, args ...string) []byte {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), args, strings.NewReader(""), &out, &errb); code != 0 {
		b.Fatalf("kseal %v: exit %d: %s", args, code, errb.String())
	}
	return out.Bytes()
}

// BenchmarkSealStream seals 1,000 Secrets of one file in process: what
// `kseal seal -f` costs less the process start.
func BenchmarkSealStream(b *testing.B) {
	b.Setenv("KSEAL_NO_PROGRESS", "1")
	for _, x25519 := range []bool{false, true} {
		name := map[bool]string{false: "hybrid", true: "x25519"}[x25519]
		s := newStreamBench(b, 1000, x25519)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s.run(b, "seal", "--no-policy", "--recipients-file", s.pub, "-f", s.in)
			}
		})
	}
}

// BenchmarkDecryptStream opens the 1,000 sealed Secrets of one file.
func BenchmarkDecryptStream(b *testing.B) {
	b.Setenv("KSEAL_NO_PROGRESS", "1")
	for _, x25519 := range []bool{false, true} {
		name := map[bool]string{false: "hybrid", true: "x25519"}[x25519]
		s := newStreamBench(b, 1000, x25519)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s.run(b, "decrypt", "--identity", s.key, "-f", s.sealed)
			}
		})
	}
}

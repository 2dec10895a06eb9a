package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCutShortFileSaysTruncated: a SealedSecret file cut at any line (the
// envelope comes last, so that is where a file loses its end) fails every
// reader with "truncated or not a kseal envelope", never "version 0" and
// never exit 0 — cut after its first line it is only "apiVersion:
// kseal.dev/v1alpha1", which would otherwise pass through as some other
// document.
//
// Guards: the missing-field cases of crypto's Validate, the missing
// spec.envelope in manifest's Doc.Sealed, the metadata of a SealedSecret
// without spec in manifest's classify, and the CLI's checkCutShort.
func TestCutShortFileSaysTruncated(t *testing.T) {
	dir := t.TempDir()
	_, pub, _ := kseal(t, dir, "keygen", "--x25519", "-o", "k.key")
	if err := os.WriteFile(filepath.Join(dir, "k.pub"), []byte(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n  labels: {a: b}\nstringData: {password: hunter2, user: admin}\n"
	if err := os.WriteFile(filepath.Join(dir, "plain.yaml"), []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}
	code, sealed, stderr := kseal(t, dir, "seal", "--recipients-file", "k.pub", "-f", "plain.yaml")
	if code != 0 {
		t.Fatalf("seal: %d %s", code, stderr)
	}
	lines := strings.SplitAfter(sealed, "\n")
	if !strings.Contains(sealed, "  envelope:\n") {
		t.Fatalf("unexpected layout:\n%s", sealed)
	}
	for n := 1; n < len(lines)-1; n++ {
		cut := strings.Join(lines[:n], "")
		if err := os.WriteFile(filepath.Join(dir, "cut.yaml"), []byte(cut), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"decrypt", "--identity", "k.key", "cut.yaml"}, {"verify", "--identity", "k.key", "cut.yaml"}, {"inspect", "cut.yaml"}} {
			code, _, stderr := kseal(t, dir, args...)
			if code == 0 || !strings.Contains(stderr, "truncated or not a kseal envelope") || strings.Contains(stderr, "version 0") {
				t.Errorf("kseal %s on the file cut after line %d: exit %d, %s", args[0], n, code, stderr)
			}
		}
	}
}

// TestEncryptedSecretCutInsideData: an encrypted Secret keeps its envelope
// in an annotation, before data:, so a file cut inside data: is whole but
// for its last values; nothing says how many there were, so it fails as an
// integrity failure (exit 3) that says a cut file reads that way too.
//
// Guards: cutHint in the CLI's openBudgeted.
func TestEncryptedSecretCutInsideData(t *testing.T) {
	dir := t.TempDir()
	_, pub, _ := kseal(t, dir, "keygen", "--x25519", "-o", "k.key")
	if err := os.WriteFile(filepath.Join(dir, "k.pub"), []byte(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData: {password: hunter2, user: admin}\n"
	if err := os.WriteFile(filepath.Join(dir, "plain.yaml"), []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}
	code, enc, stderr := kseal(t, dir, "encrypt", "--recipients-file", "k.pub", "-f", "plain.yaml")
	if code != 0 || !strings.Contains(enc, "\n  user: ") || strings.Count(enc[strings.LastIndex(enc, "  user: "):], "\n") != 1 {
		t.Fatalf("encrypt: %d %s\n%s", code, stderr, enc)
	}
	cut := enc[:strings.LastIndex(enc, "  user: ")] // the last value gone
	if err := os.WriteFile(filepath.Join(dir, "cut.yaml"), []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := kseal(t, dir, "decrypt", "--identity", "k.key", "cut.yaml")
	if code != 3 || stdout != "" || !strings.Contains(stderr, "integrity check failed") || !strings.Contains(stderr, "hint: a file cut short inside data: fails this check too (truncated or not a kseal envelope)") {
		t.Errorf("kseal decrypt on the file cut inside data: exit %d, %s%s", code, stdout, stderr)
	}
}

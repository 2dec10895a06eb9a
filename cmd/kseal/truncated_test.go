package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCutShortFileSaysTruncated: a SealedSecret file cut at any line once
// its name is known (the envelope comes last, so that is where a file
// loses its end) fails every reader with "truncated or not a kseal
// envelope", never "version 0".
//
// Guards: the missing-field cases of crypto's Validate and the missing
// spec.envelope in manifest's Doc.Sealed.
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
	from := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "  name: ") {
			from = i + 1
			break
		}
	}
	if from == 0 || !strings.Contains(sealed, "  envelope:\n") {
		t.Fatalf("unexpected layout:\n%s", sealed)
	}
	for n := from; n < len(lines)-1; n++ {
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

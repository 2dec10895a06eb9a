package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

// TestVerifyMerged: the merge driver's last check refuses a result that
// does not open, or opens to other values than were merged.
func TestVerifyMerged(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k.key")
	code, pub, stderr := runMain("keygen", "--x25519", "-o", keyFile)
	if code != 0 {
		t.Fatal(stderr)
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: hunter2}\n"
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"seal", "-r", strings.TrimSpace(pub)}, strings.NewReader(secret), &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	sealed := out.Bytes()
	ids, err := keys.ParseIdentityFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb, getenv: os.Getenv}
	want := map[int]map[string][]byte{1: {"password": []byte("hunter2")}}
	if err := verifyMerged(e, ids, sealed, want); err != nil {
		t.Fatalf("a good result: %v", err)
	}
	i := bytes.Index(sealed, []byte("password: ")) + len("password: ") + 10
	tampered := bytes.Clone(sealed)
	tampered[i] ^= 'A' ^ 'B'
	if tampered[i] == sealed[i] {
		t.Fatal("nothing changed")
	}
	for name, tc := range map[string]struct {
		out  []byte
		want map[int]map[string][]byte
	}{
		"tampered value":  {tampered, want},
		"other values":    {sealed, map[int]map[string][]byte{1: {"password": []byte("other")}}},
		"a value missing": {sealed, map[int]map[string][]byte{1: {"password": []byte("hunter2"), "user": []byte("x")}}},
		"doc missing":     {sealed, map[int]map[string][]byte{1: want[1], 2: want[1]}},
	} {
		if err := verifyMerged(e, ids, tc.out, tc.want); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

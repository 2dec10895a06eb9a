package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/awskms"
	"kseal.dev/kseal/pkg/manifest"
)

// junkWrap is a recipient whose wrap names the KMS key but holds junk:
// anyone can put such wraps in an object, and each costs whoever opens it
// a refused Decrypt call.
type junkWrap struct{ n int }

func (j junkWrap) KeyID() string { return fmt.Sprintf("junk-%d", j.n) }

func (j junkWrap) Wrap(context.Context, []byte, keys.Binding) (*keys.Stanza, error) {
	return &keys.Stanza{Type: awskms.Type, KeyID: awsKey, Body: bytes.Repeat([]byte{byte(j.n)}, 64)}, nil
}

// sealedFile seals one object of the given number of sections, each
// wrapped to rcpts, with the KMS server of this test, and writes it to
// dir/name.
func sealedFile(t *testing.T, dir, name string, sections int, rcpts []keys.Recipient) string {
	t.Helper()
	for k, v := range awsKMS.Env() {
		t.Setenv(k, v)
	}
	strm, err := manifest.Parse([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: hostile, namespace: prod}\ntype: Opaque\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := strm.Docs[0]
	s, err := crypto.Seal(t.Context(), rand.Reader, crypto.ScopeStrict, d.Target(), map[string][]byte{"k0": []byte("v")}, rcpts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < sections; i++ {
		if err := s.Set(t.Context(), rand.Reader, d.Target(), map[string][]byte{fmt.Sprintf("k%d", i): []byte("v")}, rcpts); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.ToSealedSecret(s); err != nil {
		t.Fatal(err)
	}
	b, err := strm.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ksealKMS runs kseal in dir with the test KMS servers' credentials and
// no age key.
func ksealKMS(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(ksealBin(t), args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, ".config"), "KSEAL_NO_PROGRESS=1"}
	for k, v := range awsKMS.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if d := os.Getenv("GOCOVERDIR"); d != "" {
		cmd.Env = append(cmd.Env, "GOCOVERDIR="+d)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var x *exec.ExitError
	switch {
	case err == nil:
		return 0, errb.String()
	case errors.As(err, &x):
		return x.ExitCode(), errb.String()
	}
	t.Fatalf("kseal %v: %v", args, err)
	return 0, ""
}

// TestKMSCallsPerObjectAreCapped: one object costs whoever opens or
// verifies it at most 64 KMS calls, as one reconcile costs the controller,
// not sections × wraps. The hostile object has 255 sections of 63 junk
// wraps and one good wrap each (16,320 wraps; uncapped, verify made 16,065
// refused Decrypt calls before the first good one of the last section).
// The costly one is honest: 20 sections wrapped to the key under three
// names, which open with 20 calls, but whose wrap check (verify) would
// make 60 more.
//
// Guard: objectIdentities in openBudgeted (internal/cli/open.go), and its
// budgeted identities passed to CheckWraps in verifyDoc.
func TestKMSCallsPerObjectAreCapped(t *testing.T) {
	dir := t.TempDir()
	good, err := awskms.ParseRecipient(awsKey)
	if err != nil {
		t.Fatal(err)
	}
	var hostileRcpts []keys.Recipient
	for i := range 63 {
		hostileRcpts = append(hostileRcpts, junkWrap{i})
	}
	hostile := sealedFile(t, dir, "hostile.yaml", crypto.MaxSections, append(hostileRcpts, good))

	costlyRcpts := []keys.Recipient{good}
	for _, a := range []string{"alias/cap-a", "alias/cap-b"} {
		arn := strings.Replace(awsKey, "key/11111111-2222-3333-4444-555555555555", a, 1)
		awsKMS.AddAlias(arn, awsKey)
		r, err := awskms.ParseRecipient(arn)
		if err != nil {
			t.Fatal(err)
		}
		costlyRcpts = append(costlyRcpts, r)
	}
	costly := sealedFile(t, dir, "costly.yaml", 20, costlyRcpts)

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"verify of the hostile object", []string{"verify", hostile}},
		{"decrypt of the hostile object", []string{"decrypt", hostile}},
		{"verify of the costly object", []string{"verify", costly}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := awsKMS.KeyCalls("Decrypt", awsKey)
			code, stderr := ksealKMS(t, dir, tc.args...)
			calls := awsKMS.KeyCalls("Decrypt", awsKey) - before
			t.Logf("%d KMS Decrypt calls", calls)
			if calls > 64 {
				t.Errorf("%d KMS Decrypt calls for one object, want at most 64", calls)
			}
			if code != 3 || !strings.Contains(stderr, "gave up after 64 KMS unwraps (the limit per object") || !strings.Contains(stderr, "kseal rotate") {
				t.Errorf("exit %d, stderr %q; want exit 3 and the budget's error", code, stderr)
			}
			if len(stderr) > 2000 {
				t.Errorf("a %d-byte error: %.300q…", len(stderr), stderr)
			}
		})
	}
	// The control: decrypt opens the costly object (20 calls, in budget).
	before := awsKMS.KeyCalls("Decrypt", awsKey)
	if code, stderr := ksealKMS(t, dir, "decrypt", costly); code != 0 {
		t.Fatalf("decrypt of the costly object: exit %d: %s", code, stderr)
	}
	if calls := awsKMS.KeyCalls("Decrypt", awsKey) - before; calls != 20 {
		t.Errorf("decrypt made %d calls, want one per section (20)", calls)
	}
}

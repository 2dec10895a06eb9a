package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/manifest"
)

// TestSealedSizeLowerBound: the estimate sealedSizeCheck refuses on is
// never above what a sealed object really takes, so that no input whose
// output fits is refused.
func TestSealedSizeLowerBound(t *testing.T) {
	classic, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	pq, err := agekey.Generate(false)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 300000)
	for _, tc := range []struct {
		name   string
		doc    string
		rcpts  []string
		formOf form
	}{
		{"one small value, x25519", "data: {a: Yg==}", []string{classic.Recipient()}, formSealed},
		{"one small value, post-quantum", "data: {a: Yg==}", []string{pq.Recipient()}, formSealed},
		{"empty value, both, encrypted", "data: {a: \"\"}", []string{classic.Recipient(), pq.Recipient()}, formEncrypted},
		{"many values, encrypted", "stringData: {" + manyValues(200) + "}", []string{classic.Recipient()}, formEncrypted},
		{"a big value", "stringData: {v: " + big + "}", []string{pq.Recipient()}, formSealed},
		{"long names", "stringData: {" + strings.Repeat("k", 200) + ": v}", []string{classic.Recipient()}, formSealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "apiVersion: v1\nkind: Secret\nmetadata: {name: " + strings.Repeat("n", 50) + ", namespace: prod}\n" + tc.doc + "\n"
			strm, err := manifest.Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var rs []keys.Recipient
			for _, r := range tc.rcpts {
				p, err := keys.ParseRecipient(r)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, p)
			}
			d := strm.Docs[0]
			bound, ok := sealedLowerBound(d, rs)
			if !ok {
				t.Fatal("not read as a plain Secret")
			}
			e := &env{ctx: context.Background(), getenv: func(string) string { return "" }}
			target := &recipientSource{noPolicy: true, rcpt: recipientFlags{recipients: tc.rcpts}}
			if err := sealPlain(e, "", d, sealSpec{form: tc.formOf, target: target, allowEmpty: true}); err != nil {
				t.Fatal(err)
			}
			out, err := strm.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if bound > len(out) {
				t.Fatalf("lower bound %d is above the %d bytes sealed", bound, len(out))
			}
			t.Logf("bound %d of %d bytes (%.0f%%)", bound, len(out), 100*float64(bound)/float64(len(out)))
		})
	}
}

func manyValues(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: v%d, ", i, i)
	}
	return strings.TrimSuffix(b.String(), ", ")
}

// TestBigInputFailsFast: an input whose sealed form could not be read back
// is refused before any sealing, saying how many Secrets fit per
// file; nothing is written. 10,000 Secrets to four post-quantum
// recipients: 11 MB in, at least 100 MB out.
//
// Guard: sealedSizeCheck in seal's RunE.
func TestBigInputFailsFast(t *testing.T) {
	dir := t.TempDir()
	var rcpts strings.Builder
	for range 4 {
		id, err := agekey.Generate(false)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&rcpts, id.Recipient())
	}
	// A key service nobody serves: sealing the first document fails on
	// it, so only a refusal made before any sealing names the size (the
	// test measures the order, not the time, which the race detector
	// stretches).
	fmt.Fprintln(&rcpts, "vault:http://127.0.0.1:1/v1/transit/keys/nobody")
	rf := filepath.Join(dir, "r.pub")
	if err := os.WriteFile(rf, []byte(rcpts.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&in, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s%d, namespace: prod}\nstringData: {password: %s}\n", i, strings.Repeat("p", 1000))
	}
	file := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(file, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"seal", "--recipients-file", rf, file},
		{"encrypt", "--recipients-file", rf, "-i", file},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out, errb strings.Builder
			code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
			if strings.Contains(errb.String(), "nobody") {
				t.Fatalf("sealing began before the size was checked:\n%.500s", errb.String())
			}
			want := []string{"10000 Secrets would seal to at least", "nothing sealed", "hint: split the input: at most about", "Secrets of this size"}
			for _, w := range want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			if code != ExitError || out.Len() != 0 {
				t.Fatalf("exit %d, %d bytes on stdout", code, out.Len())
			}
			if b, _ := os.ReadFile(file); string(b) != in.String() {
				t.Fatal("the input was rewritten")
			}
		})
	}
}

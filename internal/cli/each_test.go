package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/manifest"
)

// secretInputs returns inputs of n files with one Secret each.
func secretInputs(t *testing.T, n int) []*input {
	t.Helper()
	var ins []*input
	for i := range n {
		name := fmt.Sprintf("f%02d.yaml", i)
		text := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: ns\nstringData:\n  k: v\n", i)
		strm, err := manifest.ParseText(text)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, &input{name: name, text: text, strm: strm})
	}
	return ins
}

func TestEachPool(t *testing.T) {
	e := &env{ctx: context.Background(), stderr: &strings.Builder{}, getenv: func(string) string { return "" }}

	t.Run("never more than jobs at once", func(t *testing.T) {
		var now, most atomic.Int32
		err := each(e, "testing", 3, secretInputs(t, 20), []manifest.Kind{manifest.KindSecret}, func(*input, *manifest.Doc) error {
			n := now.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			now.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if m := most.Load(); m > 3 || m < 2 {
			t.Errorf("%d calls ran at once, want 2 or 3 (jobs 3)", m)
		}
	})

	t.Run("submitting waits for a free worker", func(t *testing.T) {
		// What bounds the documents in hand while readWorking parses.
		ins := secretInputs(t, 3)
		release := make(chan struct{})
		p := newPool(e, "testing", 2, len(ins), false, func(*input, *manifest.Doc) error {
			<-release
			return nil
		})
		submitted := make(chan struct{}, len(ins))
		go func() {
			for _, in := range ins {
				f := p.file()
				p.submitRest(in, f, []manifest.Kind{manifest.KindSecret})
				p.read(f)
				submitted <- struct{}{}
			}
		}()
		<-submitted
		<-submitted
		select {
		case <-submitted:
			close(release)
			t.Fatal("a third document was taken on while both workers were busy")
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		<-submitted
		if err := p.wait(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the earliest failing document is reported, whatever failed first", func(t *testing.T) {
		ins := secretInputs(t, 6)
		release := make(chan struct{})
		err := each(e, "testing", 6, ins, []manifest.Kind{manifest.KindSecret}, func(in *input, _ *manifest.Doc) error {
			switch in.name {
			case "f01.yaml":
				<-release // fails last
				return errors.New("first in order")
			case "f04.yaml":
				defer close(release)
				return errors.New("first in time")
			}
			return nil
		})
		if err == nil || !strings.HasPrefix(err.Error(), "f01.yaml: first in order") {
			t.Fatalf("got %v, want the error of f01.yaml", err)
		}
	})

	t.Run("a failure stops new work", func(t *testing.T) {
		var calls atomic.Int32
		err := each(e, "testing", 1, secretInputs(t, 20), []manifest.Kind{manifest.KindSecret}, func(*input, *manifest.Doc) error {
			calls.Add(1)
			return errors.New("refused")
		})
		if err == nil {
			t.Fatal("no error")
		}
		if c := calls.Load(); c > 2 {
			t.Errorf("%d calls after the first failure's, want at most one more", c-1)
		}
	})
}

// TestSealAndDecryptPastTheNodeBudget: seal and decrypt read a file of
// more Secrets than the node budget of its size lets a parse hold (Parse
// refuses it; they parse with ParseEach and build each tree when they work
// on it). seal -i rewrites it whole, and decrypt gives, byte for byte,
// what decrypting its documents a quarter at a time gives. Guard:
// fileFlags.each for seal and decrypt.
func TestSealAndDecryptPastTheNodeBudget(t *testing.T) {
	t.Setenv("KSEAL_NO_PROGRESS", "1")
	const n = 7000
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: ns\nstringData:\n  a: v%d\n", i, i)
	}
	if _, err := manifest.ParseText(in.String()); err == nil {
		t.Fatal("Parse reads the file: the test tests nothing")
	}
	dir := t.TempDir()
	id, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	file, key := filepath.Join(dir, "s.yaml"), filepath.Join(dir, "k.key")
	for f, text := range map[string]string{file: in.String(), key: id.SecretString() + "\n"} {
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(stdin string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb); code != 0 {
			t.Fatalf("kseal %v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	run("", "seal", "--no-policy", "-r", id.Recipient(), "-i", file)
	sealed, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(sealed), "kind: SealedSecret"); got != n {
		t.Fatalf("%d SealedSecrets written, want %d", got, n)
	}
	whole := run("", "decrypt", "--identity", key, "-f", file)
	docs := strings.SplitAfter(string(sealed), "\n---\n")
	var quarters strings.Builder
	for q := range 4 {
		part := strings.Join(docs[q*len(docs)/4:(q+1)*len(docs)/4], "")
		if q > 0 {
			quarters.WriteString("---\n")
		}
		quarters.WriteString(run(strings.TrimSuffix(part, "---\n"), "decrypt", "--identity", key, "-f", "-"))
	}
	if whole != quarters.String() {
		t.Fatalf("decrypting the whole file gives other text than a quarter at a time:\n%.300s\nwant\n%.300s", whole, quarters.String())
	}
	if !strings.Contains(whole, "name: s6999") || !strings.Contains(whole, "a: djY5OTk=") {
		t.Fatalf("the last Secret is not in the output:\n...%s", whole[len(whole)-300:])
	}
	// -o json and -o yaml convert what they print a document at a time:
	// past the node budget too (they refused it once all was done).
	var list struct {
		Kind  string
		Items []struct {
			Metadata struct{ Name string }
			Data     map[string]string
		}
	}
	if err := json.Unmarshal([]byte(run("", "decrypt", "--identity", key, "-f", file, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if last := list.Items[len(list.Items)-1]; list.Kind != "List" || len(list.Items) != n || last.Metadata.Name != "s6999" || last.Data["a"] != "djY5OTk=" {
		t.Fatalf("-o json: a %s of %d items, the last %+v", list.Kind, len(list.Items), last)
	}
	if got := run("", "decrypt", "--identity", key, "-f", file, "-o", "yaml"); got != strings.TrimPrefix(whole, "---\n") {
		t.Fatalf("-o yaml gives other text than the YAML decrypt writes:\n%.300s\nwant\n%.300s", got, whole)
	}
	// inspect and verify read a document at a time too.
	if got := strings.Count(run("", "inspect", "--json", file), `"kind": "SealedSecret"`); got != n {
		t.Fatalf("inspect --json lists %d SealedSecrets, want %d", got, n)
	}
	if got := strings.Count(run("", "verify", "--identity", key, "--json", file), `"verified": true`); got != n {
		t.Fatalf("verify --json verifies %d, want %d", got, n)
	}
	// rotate, reencrypt and compact work a document at a time too: every
	// object sealed anew, the file decrypts to what it did.
	run("", "rotate", "--identity", key, "-r", id.Recipient(), "-i", file)
	rotated, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(rotated) == string(sealed) || strings.Count(string(rotated), "kind: SealedSecret") != n {
		t.Fatalf("rotate -i: the file is unchanged or lost objects")
	}
	if got := run("", "decrypt", "--identity", key, "-f", file); got != whole {
		t.Fatalf("after rotate, decrypt gives other text:\n%.300s\nwant\n%.300s", got, whole)
	}
}

// TestFailedSealGivesItsTreeBack: a Secret past the budget that seal
// changed (its server metadata stripped) and then failed on (bad base64)
// gives its tree's nodes back; the documents waiting to be built again
// would otherwise wait for ever, and seal never return. Guard: the
// Discard on failure in eachDoc.
func TestFailedSealGivesItsTreeBack(t *testing.T) {
	t.Setenv("KSEAL_NO_PROGRESS", "1")
	var in strings.Builder
	// 2,000 values, about 4,000 nodes: 16 such Secrets are kept, the
	// 17th, which fails, and those after it are let go, and two of them
	// cannot be built again at once.
	for i := range 24 {
		fmt.Fprintf(&in, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: ns\n", i)
		if i == 16 {
			in.WriteString("  resourceVersion: \"1\"\ndata:\n  k0: bad*base64\n")
		} else {
			in.WriteString("data:\n  k0: djE=\n")
		}
		for k := 1; k < 2000; k++ {
			fmt.Fprintf(&in, "  k%d: djE=\n", k)
		}
	}
	id, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, []string{"seal", "--no-policy", "-j", "8", "-r", id.Recipient(), "-f", "-"}, strings.NewReader(in.String()), &out, &errb)
	if ctx.Err() != nil {
		t.Fatalf("seal did not return until its context ended (exit %d): %.300s", code, errb.String())
	}
	if code == 0 || !strings.Contains(errb.String(), "doc 17:") {
		t.Fatalf("exit %d, want doc 17 refused: %.300s", code, errb.String())
	}
}

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/manifest"
)

// TestDecryptOpensAsItReads: decrypt opens each sealed object as soon as
// it is read (readWorking), yet fails as when it read everything first:
// a file that does not parse, or a kseal object cut short, is the error
// reported, even after an object before it failed to open; and nothing is
// written. Guard: readWorking returning the read error before the pool's
// (without it, the earlier object's "no identity" is reported).
func TestDecryptOpensAsItReads(t *testing.T) {
	t.Setenv("KSEAL_NO_PROGRESS", "1")
	dir := t.TempDir()
	ours, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
		return out.String(), errb.String(), code
	}
	seal := func(name, recipient string) string {
		t.Helper()
		out, errs, code := run("apiVersion: v1\nkind: Secret\nmetadata: {name: "+name+", namespace: ns}\nstringData: {a: b}\n", "seal", "--no-policy", "-r", recipient)
		if code != 0 {
			t.Fatalf("seal: exit %d: %s", code, errs)
		}
		return out
	}
	// list is a v1 List of the sealed objects given.
	list := func(objects ...string) string {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
		for _, o := range objects {
			for i, l := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(o, "---\n"), "\n"), "\n") {
				if i == 0 {
					b.WriteString("- " + l + "\n")
				} else {
					b.WriteString("  " + l + "\n")
				}
			}
		}
		return b.String()
	}
	key := filepath.Join(dir, "k.key")
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("k.key", ours.SecretString()+"\n")
	good, other := seal("good", ours.Recipient()), seal("other", theirs.Recipient())
	for _, tc := range []struct {
		name  string
		files []string
		code  int
		err   string
	}{
		{"a document that does not parse, after one that does not open",
			[]string{other + "---\n" + good + "---\n{not: yaml\n"}, 1, "doc 3: invalid YAML"},
		{"a file that does not parse, after one whose object does not open",
			[]string{good + "---\n" + other, "{not: yaml\n"}, 1, "f1.yaml: doc 1: invalid YAML"},
		{"a kseal object cut short, after one that does not open",
			[]string{other + "---\napiVersion: kseal.dev/v1alpha1\n"}, ExitNoOpen, "doc 2: apiVersion kseal.dev/v1alpha1 and no kind"},
		{"an object that does not open, after one that does",
			[]string{good + "---\n" + other + "---\n" + good}, ExitNoOpen, "f0.yaml: doc 2: SealedSecret ns/other: section 0: no identity matched"},
		// A list's items are worked on once the file is read, after the
		// objects handed on as it was read: the item, earlier in the
		// file, is still the error.
		{"a list item that does not open, before an object that does not open",
			[]string{list(good, other) + "---\n" + other}, ExitNoOpen, "f0.yaml: doc 1 item 2: SealedSecret ns/other: section 0: no identity matched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"decrypt", "--identity", key}
			for i, text := range tc.files {
				args = append(args, write("f"+string(rune('0'+i))+".yaml", text))
			}
			out, errs, code := run("", args...)
			if code != tc.code || !strings.Contains(errs, tc.err) || out != "" {
				t.Fatalf("exit %d, %q on standard output, error:\n%s\nwant exit %d and %q, nothing written", code, out, errs, tc.code, tc.err)
			}
		})
	}
	// A sealed object with sops metadata is still reported, handed on as
	// it was read.
	f := write("f0.yaml", good+"sops: {kms: []}\n")
	if _, errs, code := run("", "decrypt", "--identity", key, f); code != ExitFindings || strings.Count(errs, "doc 1: SealedSecret ns/good: a sops-encrypted document") != 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// And what opens is what the file gives read whole.
	// (A list's items are opened while the objects after it are; under
	// the race detector, nothing of them is read meanwhile.)
	f = write("f0.yaml", list(good, good)+"---\n"+good+"---\n"+seal("second", ours.Recipient()))
	out, errs, code := run("", "decrypt", "--identity", key, f, f)
	if code != 0 || strings.Count(out, "kind: Secret") != 8 || !strings.Contains(errs, "decrypted 8 objects in 2 files") {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
}

// TestReadWorkingHandsOn: readWorking works on every sealed object of a
// manifest as it is read (handed on, its tree built once), and on those of
// a dotenv file and a list, which it reads whole first, after; each
// exactly once. Guard: the ParseEachTo in readWorking.
func TestReadWorkingHandsOn(t *testing.T) {
	t.Setenv("KSEAL_NO_PROGRESS", "1")
	dir := t.TempDir()
	var text strings.Builder
	for i := range 300 {
		text.WriteString("---\napiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: s" + string(rune('a'+i%26)) + ", namespace: ns}\nspec: {}\n")
	}
	text.WriteString("---\n{apiVersion: v1, kind: List, items: [{apiVersion: kseal.dev/v1alpha1, kind: SealedSecret, metadata: {name: l, namespace: ns}, spec: {}}]}\n")
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: context.Background(), stderr: &strings.Builder{}, getenv: func(string) string { return "" }}
	f := fileFlags{each: true, jobs: 4}
	var mu sync.Mutex
	handed, seen := 0, map[*manifest.Doc]int{}
	sum := &runSummary{verb: "tested", idle: "sealed object"}
	_, err := f.readWorking(e, []string{p}, "testing", sealedKinds, sum, func(_ *input, d *manifest.Doc) error {
		mu.Lock()
		defer mu.Unlock()
		seen[d]++
		if d.Handed() {
			handed++
			if d.Node() == nil {
				t.Errorf("doc %d handed on without its tree", d.Index)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if handed != 300 || len(seen) != 301 {
		t.Fatalf("%d handed on, %d worked on; want 300 and 301 (the list's item after)", handed, len(seen))
	}
	for d, n := range seen {
		if n != 1 {
			t.Fatalf("doc %d worked on %d times", d.Index, n)
		}
	}
	if sum.objects != 301 || sum.files != 1 {
		t.Fatalf("summary: %d objects in %d files, want 301 in 1", sum.objects, sum.files)
	}
}

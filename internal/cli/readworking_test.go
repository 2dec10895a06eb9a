package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kseal.dev/kseal/pkg/keys"
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
	run := mainWith
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
	write := func(name, text string) string { t.Helper(); return writeIn(t, dir, name, text) }
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
			// Read whole, and read as worked on (streamMin).
			defer func(m int64) { streamMin = m }(streamMin)
			for _, streamMin = range []int64{streamMin, 0} {
				out, errs, code := run("", args...)
				if code != tc.code || !strings.Contains(errs, tc.err) || out != "" {
					t.Fatalf("streamMin %d: exit %d, %q on standard output, error:\n%s\nwant exit %d and %q, nothing written", streamMin, code, out, errs, tc.code, tc.err)
				}
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

// TestDecryptStreamsLargeFiles: a file of streamMin bytes or more is read
// as its documents are worked on, never whole (manifest.ParseEachFrom):
// decrypt and rotate write what they write of the same text read whole
// (from standard input), and report an empty file and a failing object
// alike; -i, which compares what it writes with what it read, reads whole.
// Guard: openInput's streaming case (without it, the input's text is held
// and the first check fails).
func TestDecryptStreamsLargeFiles(t *testing.T) {
	t.Setenv("KSEAL_NO_PROGRESS", "1")
	dir := t.TempDir()
	id, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	run := mainWith
	key := writeIn(t, dir, "k.key", id.SecretString()+"\n")
	var plain strings.Builder
	plain.WriteString("# secrets\n")
	for i := range 40 {
		plain.WriteString("---\napiVersion: v1\nkind: Secret\nmetadata: {name: s" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ", namespace: ns}\nstringData: {a: b}\n")
	}
	plain.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n")
	sealed, errs, code := run(plain.String(), "seal", "--no-policy", "-r", id.Recipient())
	if code != 0 {
		t.Fatalf("seal: exit %d: %s", code, errs)
	}
	write := func(name, text string) string { t.Helper(); return writeIn(t, dir, name, text) }
	p := write("s.yaml", sealed)
	defer func(m int64) { streamMin = m }(streamMin)
	streamMin = 0

	// Read as worked on: the text is not held, nor the settled
	// documents' own.
	e := &env{ctx: context.Background(), stderr: &strings.Builder{}, getenv: func(string) string { return "" }}
	f := fileFlags{each: true, jobs: 2}
	sum := &runSummary{verb: "tested", idle: "sealed object"}
	ins, err := f.readWorking(e, []string{p}, "testing", sealedKinds, sum, func(in *input, d *manifest.Doc) error {
		_, opened, err := openDoc(e, d, []keys.Identity{id})
		if err != nil {
			return err
		}
		return d.ToPlain(opened.Values)
	})
	if err != nil {
		t.Fatal(err)
	}
	if ins[0].text != "" || ins[0].src != nil {
		t.Fatalf("the input's text held (%d bytes) or its file left open (%v)", len(ins[0].text), ins[0].src != nil)
	}
	for _, d := range ins[0].strm.Docs {
		if d.Handed() && d.Raw() != "" {
			t.Fatalf("doc %d: worked on, and still holds its text", d.Index)
		}
	}

	// Rewritten while read, to the same size: refused. (With one job,
	// the read waits for the first object to be done before it goes on
	// past the second.) Guard: readWorking's unchanged.
	once := sync.Once{}
	f = fileFlags{each: true, jobs: 1}
	_, err = f.readWorking(e, []string{p}, "testing", sealedKinds, sum, func(in *input, d *manifest.Doc) error {
		once.Do(func() {
			write("s.yaml", sealed)
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(p, later, later); err != nil {
				t.Error(err)
			}
		})
		return nil
	})
	if !errors.Is(err, manifest.ErrChanged) {
		t.Fatalf("rewritten while read: got %v, want ErrChanged", err)
	}
	write("s.yaml", sealed)

	for _, args := range [][]string{{"decrypt", "--identity", key}, {"rotate", "--identity", key, "--no-policy", "-r", id.Recipient()}} {
		streamed, errs, code := run("", append(args, p)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		whole, errs, code := run(sealed, args...)
		if code != 0 {
			t.Fatalf("%v from standard input: exit %d: %s", args, code, errs)
		}
		if args[0] == "decrypt" && streamed != whole {
			t.Fatalf("decrypt: streamed:\n%s\nread whole:\n%s", streamed, whole)
		}
		if n := strings.Count(streamed, "\n---\n"); n != strings.Count(whole, "\n---\n") || !strings.HasPrefix(streamed, "# secrets\n") || !strings.Contains(streamed, "kind: ConfigMap") {
			t.Fatalf("%v: %d documents, read whole %d:\n%.300s", args, n, strings.Count(whole, "\n---\n"), streamed)
		}
	}
	// Errors as when read whole.
	if _, errs, code := run("", "decrypt", "--identity", key, write("empty.yaml", "# nothing\n---\n")); code == 0 || !strings.Contains(errs, "empty.yaml: empty input: no documents") {
		t.Fatalf("empty file: exit %d: %s", code, errs)
	}
	other, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run("", "decrypt", "--identity", write("o.key", other.SecretString()+"\n"), p); code != ExitNoOpen || !strings.Contains(errs, "s.yaml: doc 2: SealedSecret ns/saa: section 0: no identity matched") {
		t.Fatalf("wrong key: exit %d: %s", code, errs)
	}
	// -i and --dry-run read whole: they compare what they write with
	// what was read. Guard: streams' -i case (--dry-run sets -i).
	for _, f := range []fileFlags{{each: true, jobs: 1, inPlace: true}, {each: true, jobs: 1, dryRun: true}} {
		ins, err := f.readWorking(e, []string{p}, "testing", sealedKinds, sum, func(*input, *manifest.Doc) error { return nil })
		if err != nil || len(ins) != 1 || ins[0].text != sealed {
			t.Fatalf("-i %v, --dry-run %v: the file not read whole (%v)", f.inPlace, f.dryRun, err)
		}
	}
	// -i rewrites.
	if _, errs, code := run("", "rotate", "-i", "--identity", key, "--no-policy", "-r", id.Recipient(), p); code != 0 {
		t.Fatalf("rotate -i: exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) == sealed || !strings.HasPrefix(string(b), "# secrets\n") {
		t.Fatalf("rotate -i: the file is unchanged or lost its comment (%v)", err)
	}
}

// mainWith runs kseal with stdin as its standard input, and returns what
// it wrote to standard output and standard error, and its exit code.
func mainWith(stdin string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// writeIn writes text to the file name of dir and returns its path.
func writeIn(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

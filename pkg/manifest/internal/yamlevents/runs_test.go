package yamlevents

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
)

// TestRunsAreUpstreams: with runs.go's fast paths, the reader and scanner
// read what yaml.v3 reads (tree, values, styles, lines and columns) and
// refuse what it refuses, for long plain values holding, at every offset
// across the reader's 512-byte raw buffer, each kind of character that
// must leave the fast path: multi-byte UTF-8, ':' (with and without a
// blank after it), flow indicators, '#', a tab, a folded line break, a
// CRLF, a control character, a byte that is not UTF-8, and the end of the
// input.
func TestRunsAreUpstreams(t *testing.T) {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	long := strings.Repeat(b64, 24) // 1,560 bytes: three raw buffers
	builds := []string{"é", "€", "😀", "a:b", "#x", "-x", "x\ty", "x\n  y", "x\r\n  y", ".~!@$%^&*()'\"<>|\\"}
	refused := []string{"\x7f", "\x01", "\xc3(", "\xff"}
	cut := func(s string, at int) string { return s[:at%len(s)] }
	built := 0
	for off := 0; off < 1100; off += 7 {
		pad := cut(long, off)
		for _, in := range builds {
			for _, text := range []string{
				"k: " + pad + in + long + "\n",
				"k: " + pad + in + long,                       // no line break at the end
				"k: {a: " + pad + ", b: " + in + long + "}\n", // flow: ',' and '}' end it
				"k: [" + pad + in + ", " + long + "]\n",
				"k:\n  - " + pad + in + long + "\n  - " + long + "\n",
				pad + ": " + in + long + "\n", // a long key
			} {
				if readsAsYAMLv3(t, fmt.Sprintf("offset %d, %q", off, in), []byte(text)) {
					built++
				}
			}
		}
		for _, in := range refused {
			text := "k: " + pad + in + long + "\n"
			_, err := Summarize([]byte(text))
			if _, derr := decoded([]byte(text)); derr == nil || err == nil {
				t.Errorf("offset %d, %q: yaml.v3 refuses (%v), Summarize (%v)", off, in, derr, err)
			}
		}
	}
	if built == 0 {
		t.Fatal("no tree built: the test compares nothing")
	}
	// The buffer is laid out as upstream's: upstream's is_bom reads
	// buffer[0], so a U+FEFF first in a raw chunk, after a run that fills
	// the chunk before, must be read as upstream reads it (it was not:
	// "#namespace" became a key, "x#…" a comment, to kseal alone).
	for n := 500; n < 1100; n++ {
		for _, after := range []string{"\nxkind: Secret\n", "\n#namespace: kube-system\n", "\nx#k: [a, b]\n", "\nxkind: Secret # c\n"} {
			readsAsYAMLv3(t, fmt.Sprintf("U+FEFF after %d bytes, then %q", n, after), []byte("k: "+cut(long, n-3)+"\ufeff"+after))
		}
	}
}

// readsAsYAMLv3 fails unless Summarize refuses data exactly when yaml.v3
// does, counts the nodes yaml.v3's tree holds (of a single document), and
// (sameTree) any tree SummarizeTree builds is yaml.v3's. It reports
// whether one was built.
func readsAsYAMLv3(t *testing.T, name string, data []byte) bool {
	t.Helper()
	sum, err := Summarize(data)
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var first *yamlv3.Node
	var derr error
	for {
		var n yamlv3.Node
		if derr = dec.Decode(&n); derr != nil {
			break
		}
		if first == nil {
			first = &n
		}
	}
	if errors.Is(derr, io.EOF) {
		derr = nil
	}
	switch {
	case (err == nil) != (derr == nil):
		t.Errorf("%s: Summarize says %v, yaml.v3 %v", name, err, derr)
		return false
	case err == nil && sum.Documents == 1 && sum.Nodes != countNodes(first):
		t.Errorf("%s: Summarize counts %d nodes, yaml.v3 builds %d", name, sum.Nodes, countNodes(first))
	case err == nil && sum.Documents == 1 && !sum.Duplicate && !sum.Disguised:
		// No tree is built for a document with a comment: its header
		// is what shows a character read otherwise there.
		if h := header(first); h.APIVersion != sum.APIVersion || h.Kind != sum.Kind || h.Sops != sum.Sops {
			t.Errorf("%s: Summarize reads the header %+v, yaml.v3 %+v", name, sum.Header, h)
		}
	}
	return sameTree(t, name, data)
}

// header is what Summary.Header says of a yaml.v3 document without
// repeated or disguised keys: its root mapping's apiVersion and kind, and
// whether its sops key holds a mapping (the other fields are left out).
func header(doc *yamlv3.Node) (h Header) {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yamlv3.MappingNode {
		return h
	}
	r := doc.Content[0]
	for i := 0; i+1 < len(r.Content); i += 2 {
		k, v := r.Content[i], r.Content[i+1]
		switch {
		case k.Value == "apiVersion" && v.Kind == yamlv3.ScalarNode:
			h.APIVersion = v.Value
		case k.Value == "kind" && v.Kind == yamlv3.ScalarNode:
			h.Kind = v.Value
		case k.Value == "sops":
			h.Sops = v.Kind == yamlv3.MappingNode
		}
	}
	return h
}

// countNodes counts what Summary.Nodes counts in a yaml.v3 tree: its
// scalars, sequences, mappings and aliases.
func countNodes(n *yamlv3.Node) int {
	c := 1
	if n.Kind == yamlv3.DocumentNode {
		c = 0
	}
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

// FuzzRunsAreUpstreams: for any single document, Summarize and the tree
// read what yaml.v3 reads (readsAsYAMLv3); the seeds put long runs of
// base64 against the characters that end them and against the reader's
// 512-byte chunks.
func FuzzRunsAreUpstreams(f *testing.F) {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	long := strings.Repeat(b64, 10)
	for _, s := range []string{
		"k: " + long[:509] + "\ufeff\nxkind: Secret\n", // U+FEFF first in the second 512 bytes
		"k: " + long + "é" + long + "\n",
		"k: {a: " + long + ", b: c}\n",
		"k:\n  - " + long + "\n  - x:y\n",
		"k: " + long + "\n  " + long + "\n",
		"k: " + long + " #c\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 8192 {
			return
		}
		if sum, err := Summarize([]byte(text)); err == nil && sum.Aliases > 0 {
			return // yaml.v3's decoder resolves aliases, events do not
		}
		readsAsYAMLv3(t, "fuzz", []byte(text))
	})
}

// TestLongPlainValueIsMadeOnce: a plain value longer than the parser's
// buffer is copied into one allocation of its size (plainAhead's hint),
// not grown as each buffer's run is added, which would leave it the
// capacity append rounds up to. (Counting allocations would not do:
// under -race, sync.Pool drops what it is given at random.)
func TestLongPlainValueIsMadeOnce(t *testing.T) {
	for _, n := range []int{60, 1536, 6000, 50001} {
		value := strings.Repeat("QUJD", n/4) + "QUJDRA"[:n%4]
		var p yaml_parser_t
		yaml_parser_initialize(&p)
		yaml_parser_set_input_string(&p, []byte("data:\n  a: "+value+"\n  b: c\n"))
		var got []byte
		for got == nil {
			var tok yaml_token_t
			if !yaml_parser_scan(&p, &tok) || tok.typ == yaml_STREAM_END_TOKEN {
				t.Fatalf("%d bytes: no such value scanned", n)
			}
			if tok.typ == yaml_SCALAR_TOKEN && len(tok.value) == n {
				got = tok.value
			}
		}
		if string(got) != value || cap(got) != n {
			t.Errorf("a %d-byte value: %d bytes read, in a buffer of %d", n, len(got), cap(got))
		}
	}
}

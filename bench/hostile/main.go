// Command hostile writes the hostile YAML inputs bench/parse-memory.sh
// feeds to kseal: each is about SIZE bytes (default 4 MiB) and built to make
// a YAML parser allocate as much as possible per input byte.
//
//	go run ./bench/hostile -size 4194304 DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	size := flag.Int("size", 4<<20, "approximate size of each input in bytes")
	flag.Parse()
	dir := flag.Arg(0)
	if dir == "" {
		fmt.Fprintln(os.Stderr, "usage: hostile [-size N] DIR")
		os.Exit(2)
	}
	n := *size
	secretHead := "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns}\n"
	inputs := map[string]string{
		// one flow sequence of one-letter scalars: two bytes per node
		"flow.yaml": "a: [" + strings.Repeat("a,", n/2) + "a]\n",
		// the same inside a Secret, which kseal must parse fully
		"secret-flow.yaml": secretHead + "extra: [" + strings.Repeat("a,", n/2) + "a]\n",
		// deep flow nesting
		"deep-flow.yaml": "a: " + strings.Repeat("[", n/2) + strings.Repeat("]", n/2) + "\n",
		// many tiny Secret documents
		"docs.yaml": strings.Repeat("---\n"+secretHead+"data: {a: YQ==}\n", n/80),
		// a List of many tiny Secrets
		"list.yaml": "apiVersion: v1\nkind: List\nitems:\n" + strings.Repeat("- apiVersion: v1\n  kind: Secret\n  metadata: {name: a, namespace: b}\n  data: {a: YQ==}\n", n/75),
		// separators only: as many empty documents as kseal reads
		"separators.yaml": strings.Repeat("---\n", n/4),
		// the least a document can be, for one kseal passes through, and
		// for one it decodes again as kubectl does (a flow sequence)
		"scalar-docs.yaml": strings.Repeat("x\n---\n", n/6),
		"flow-docs.yaml":   strings.Repeat("[]\n---\n", n/7),
		// newlines only
		"newlines.yaml": strings.Repeat("\n", n),
		// block mappings of empty values: three bytes per node
		"block.yaml": secretHead + "extra:\n" + strings.Repeat(" a:\n", n/4),
		// billion laughs in a Secret
		"laughs.yaml": secretHead + laughs(),
		// comments the parser queues: one per short line
		"comments.yaml":    strings.Repeat("- 1 #\n", n/6),
		"comment-map.yaml": strings.Repeat("#\na: 1\n", n/7),
		// a top-level flow sequence, and a list whose items are scalars
		"top-seq.yaml": "[" + strings.Repeat("a,", n/2) + "a]\n",
		"items.yaml":   "kind: FooList\nitems: [" + strings.Repeat("a,", n/2) + "a]\n",
		// block sequence lines
		"block-seq.yaml": strings.Repeat("- a\n", n/4),
		// one document of the narrow form kseal writes, which its own
		// reader takes (yamlevents/fast.go) up to a bound
		"form-seq.yaml": "apiVersion: v1\nkind: ConfigMap\nx:\n" + strings.Repeat("- a\n", n/4),
		"form-map.yaml": "apiVersion: v1\nkind: ConfigMap\nx:\n" + strings.Repeat("  a: b\n", n/7),
	}
	for name, text := range inputs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func laughs() string {
	var b strings.Builder
	b.WriteString(`l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

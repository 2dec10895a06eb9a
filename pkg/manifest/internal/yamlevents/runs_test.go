package yamlevents

import (
	"fmt"
	"strings"
	"testing"
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
				if sameTree(t, fmt.Sprintf("offset %d, %q", off, in), []byte(text)) {
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
}

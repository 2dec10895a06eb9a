package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ name, in, want, text string }{
		{"plain", "k8s/db.yaml", "k8s/db.yaml", "k8s/db.yaml"},
		{"UTF-8 letters stay", "déjà 日本", "déjà 日本", "déjà 日本"},
		{"escape sequence", "a\x1b[2Jb", `a\x1b[2Jb`, `a\x1b[2Jb`},
		{"newline and tab", "a\nb\tc", `a\x0ab\x09c`, "a\nb\tc"},
		{"CRLF", "a\r\nb\rc", `a\x0d\x0ab\x0dc`, "a\r\nb\\x0dc"},
		{"DEL and BEL", "a\x7f\x07", `a\x7f\x07`, `a\x7f\x07`},
		{"C1 control (CSI)", "a\u009b2J", `a\u{9b}2J`, `a\u{9b}2J`},
		{"bidi override and isolate", "txt\u202eexe\u2066", `txt\u{202e}exe\u{2066}`, `txt\u{202e}exe\u{2066}`},
		{"marks and zero width", "\u200e\u200f\u200b\ufeff", `\u{200e}\u{200f}\u{200b}\u{feff}`, `\u{200e}\u{200f}\u{200b}\u{feff}`},
		{"line separator", "a\u2028b", `a\u{2028}b`, `a\u{2028}b`},
		{"tag characters", "a\U000E0041", `a\u{e0041}`, `a\u{e0041}`},
		{"bytes that are not UTF-8", "a\xff\xc3", `a\xff\xc3`, `a\xff\xc3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := printable(tc.in); got != tc.want {
				t.Errorf("printable: got %q, want %q", got, tc.want)
			}
			if got := printableText(tc.in); got != tc.text {
				t.Errorf("printableText: got %q, want %q", got, tc.text)
			}
		})
	}
}

// FuzzPrintable: whatever the input, printable's output holds no rune a
// terminal acts on, and printableText's none but newlines, tabs and the
// carriage return of a CRLF.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"a\x1b[2J\nb", "\u202e\r\n\r", "\xff\u009b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range printable(s) {
			if unsafeRune(r) || r == unicode.ReplacementChar {
				t.Fatalf("printable(%q) holds %U", s, r)
			}
		}
		out := printableText(s)
		for i, r := range out {
			if r == '\n' || r == '\t' || (r == '\r' && strings.HasPrefix(out[i+1:], "\n")) {
				continue
			}
			if unsafeRune(r) || r == unicode.ReplacementChar {
				t.Fatalf("printableText(%q) holds %U", s, r)
			}
		}
	})
}

func TestJSONPrintable(t *testing.T) {
	in := map[string]string{"file": "f\x1b[2J\n\u202e\u009b\x7f\U000E0041.yaml"}
	b, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out := jsonPrintable(b)
	for _, r := range string(out) {
		if r != '\n' && unsafeRune(r) {
			t.Fatalf("%q holds %U", out, r)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, in) {
		t.Fatalf("not the same JSON: %v %q", err, back)
	}
}

func TestErrorLines(t *testing.T) {
	joined := errors.Join(errors.New("kseal.yaml: services.a: unknown key"), fmt.Errorf("kseal.yaml: %q", "x"))
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"one line", errors.New("f.yaml: doc 1: bad"), []string{"f.yaml: doc 1: bad"}},
		{"a newline from input is escaped", fmt.Errorf("%s: doc 1: bad", "f\nkseal: hint: x.yaml"), []string{`f\x0akseal: hint: x.yaml: doc 1: bad`}},
		{"errors.Join keeps its lines", fmt.Errorf("policy: %w", joined), []string{"policy: kseal.yaml: services.a: unknown key", `kseal.yaml: "x"`}},
		{"in a joined error, input is escaped", errors.Join(errors.New("a\x1b[2J"), errors.New("b\nc")), []string{`a\x1b[2J`, `b\x0ac`}},
		{"a join of one", fmt.Errorf("x: %w", errors.Join(errors.New("a\nb"))), []string{`x: a\x0ab`}},
		{"two %w are no join", fmt.Errorf("%w: %w", errors.New("a\n"), errors.New("b")), []string{`a\x0a: b`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorLines(tc.err); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

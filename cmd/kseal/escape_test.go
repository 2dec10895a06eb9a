package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// hostile holds what a terminal acts on: an escape sequence that clears the
// screen, a newline that starts a forged line, a right-to-left override,
// an OSC title sequence ended by BEL, and a C1 control (CSI).
const hostile = "\x1b[2J\nFORGED: verified\u202e\x1b]0;t\x07\u009b"

// unsafeOutput reports the first rune of out a terminal would act on
// rather than show (newlines and tabs are kseal's own), and any line that
// starts with the forged text.
func unsafeOutput(out string) string {
	for _, r := range out {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || unicode.Is(unicode.Cf, r) || r == '\uFFFD' {
			return fmt.Sprintf("%U", r)
		}
	}
	if regexp.MustCompile(`(?m)^FORGED`).MatchString(out) {
		return "a line starting FORGED"
	}
	return ""
}

// TestNothingPrintedCarriesControlCharacters: control characters and bidi
// overrides in a file name, a key ID and a stanza type of an envelope, a
// label key, an annotation value, reach no terminal raw, on standard
// output or standard error, from inspect, verify, diff-view, status and
// the errors of any command (issue 17, property 1). Each is still shown,
// escaped.
//
// Guards: printable and jsonPrintable at every printer (internal/cli:
// printInfo, writeJSON, status, writeSealedView, the error lines of Main
// and verify).
func TestNothingPrintedCarriesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	code, pub, errs := kseal(t, dir, "keygen", "--x25519", "-o", "k.key")
	if code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("k.pub", pub)
	yq := func(s string) string { // a YAML double-quoted string
		r := strings.NewReplacer("\\", `\\`, `"`, `\"`, "\x1b", `\e`, "\n", `\n`, "\x07", `\a`, "\u202e", `\u202e`, "\u009b", `\u009b`)
		return `"` + r.Replace(s) + `"`
	}
	write("plain.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n  labels: {"+yq("l"+hostile)+": x}\n  annotations: {a: "+yq(hostile)+"}\nstringData: {password: s3cr3t}\n")
	code, sealed, errs := kseal(t, dir, "seal", "--recipients-file", "k.pub", "plain.yaml")
	if code != 0 {
		t.Fatalf("seal: %s", errs)
	}
	// A git writer's edit: key ID and stanza type of the wrap (the
	// object no longer verifies; inspect and the errors still show them).
	tampered := regexp.MustCompile(`keyID: \S+`).ReplaceAllString(sealed, "keyID: "+yq("age1"+hostile))
	tampered = regexp.MustCompile(`type: X25519|type: age\S*`).ReplaceAllStringFunc(tampered, func(string) string { return "type: " + yq("age"+hostile) })
	if tampered == sealed {
		t.Fatal("no key ID in the sealed file")
	}
	name := "f" + hostile + ".yaml"
	write(name, tampered)
	write("good.yaml", sealed)
	// Shown as it is by diff-view, line ends kept: no newline in it.
	write("broken"+hostile+".yaml", "# "+strings.ReplaceAll(hostile, "\n", "")+"\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {a: [\n")
	if err := os.Mkdir(filepath.Join(dir, "tree"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join("tree", name), sealed)

	for _, tc := range []struct {
		name string
		args []string
		show string // what must appear, escaped
	}{
		{"inspect", []string{"inspect", name}, `\x0aFORGED`},
		{"inspect --json", []string{"inspect", "--json", name}, `\u001b[2J`},
		{"inspect -R (file names from a walk)", []string{"inspect", "-R", "tree"}, `\x1b[2J`},
		{"verify", []string{"verify", "--identity", "k.key", name, "good.yaml"}, `\x1b[2J`},
		{"verify --json", []string{"verify", "--json", "--identity", "k.key", name, "good.yaml"}, `\u001b[2J`},
		{"diff-view with a key", []string{"diff-view", "--identity", "k.key", "good.yaml"}, `\x1b[2J`},
		{"diff-view of the tampered file", []string{"diff-view", "--identity", "k.key", name}, `\x1b[2J`},
		{"diff-view without a key", []string{"diff-view", "--no-decrypt", name}, `\x1b[2J`},
		{"diff-view of a file it cannot read", []string{"diff-view", "broken" + hostile + ".yaml"}, `\x1b[2J`},
		{"status", []string{"status", name, "plain.yaml"}, `\x1b[2J`},
		{"status --json", []string{"status", "--json", name}, `\u001b[2J`},
		{"policy check (file names from a walk)", []string{"policy", "check", "--plaintext-only", "."}, `\x1b[2J`},
		{"decrypt: the error lists the key ID", []string{"decrypt", "--identity", "k.key", name}, `\x1b[2J`},
		{"seal: the error names the file", []string{"seal", "--recipients-file", "k.pub", "broken" + hostile + ".yaml"}, `\x1b[2J`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, errs := kseal(t, dir, tc.args...)
			for stream, s := range map[string]string{"stdout": out, "stderr": errs} {
				if bad := unsafeOutput(s); bad != "" {
					t.Errorf("%s carries %s:\n%q", stream, bad, s)
				}
			}
			if !strings.Contains(out+errs, tc.show) {
				t.Errorf("the hostile text is not shown escaped (%q):\nstdout: %q\nstderr: %q", tc.show, out, errs)
			}
			if strings.Contains(out+errs, "s3cr3t") && !strings.HasPrefix(tc.name, "diff-view with a key") {
				t.Errorf("plaintext in the output")
			}
		})
	}
}

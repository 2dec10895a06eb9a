package cli

import (
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/manifest"
)

// TestOnlyCommentsIsStripComments: the copy-free emptiness check decides as
// stripComments did, so `kseal seal f.yaml > f.yaml` still fails on the
// truncated file.
func TestOnlyCommentsIsStripComments(t *testing.T) {
	for name, in := range map[string]string{
		"empty":           "",
		"blank lines":     "\n \n\t\r\n",
		"comments":        "# a\n  # b\n---\n",
		"separator only":  "---\n---",
		"document":        "# a\nkind: Secret\n",
		"no final EOL":    "a: b",
		"unicode space":   "\u00a0\n# x\u2003\n",
		"separator text":  "--- # c\n",
		"crlf":            "---\r\n# x\r\n",
		"crlf with value": "---\r\na: b\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			if got, want := manifest.OnlyComments(in), stripComments(in) == ""; got != want {
				t.Fatalf("onlyComments(%q) = %v, stripComments says %v", in, got, want)
			}
		})
	}
}

// stripComments drops comment lines, to tell an empty file from one with
// content.
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			b.WriteString(l)
		}
	}
	return b.String()
}

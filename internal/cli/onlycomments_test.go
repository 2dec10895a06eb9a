package cli

import "testing"

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
			if got, want := onlyComments([]byte(in)), stripComments(in) == ""; got != want {
				t.Fatalf("onlyComments(%q) = %v, stripComments says %v", in, got, want)
			}
		})
	}
}

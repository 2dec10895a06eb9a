package manifest

import (
	"errors"
	"strings"
	"testing"
)

// Converting for -o json stays within Parse's bounds: a flow sequence of
// a few bytes per node is refused before any tree is built, and aliases
// are never expanded.
func TestDocumentsJSONBounds(t *testing.T) {
	flow := "apiVersion: v1\nkind: ConfigMap\ndata: [" + strings.Repeat("1,", 1<<20) + "1]\n"
	if _, err := DocumentsJSON([]byte(flow)); err == nil || !strings.Contains(err.Error(), "YAML nodes, more than") {
		t.Fatalf("flow sequence of 1M nodes: %v", err)
	}
	laughs := "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
	if _, err := DocumentsJSON([]byte(laughs)); !errors.Is(err, ErrAlias) {
		t.Fatalf("aliases: %v", err)
	}
	out, err := DocumentsJSON([]byte("b: 1\na: [true, null, \"x\", 1.5]\n---\nc: d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"kind": "List"`) || strings.Index(string(out), `"b"`) > strings.Index(string(out), `"a"`) {
		t.Fatalf("two documents, keys in order:\n%s", out)
	}
}

// TestDocumentsConvertOneAtATime: a stream whose documents together hold
// more nodes than its budget converts (one tree is held at a time), and
// a document over the budget among them is refused, named.
func TestDocumentsConvertOneAtATime(t *testing.T) {
	text := compactSecrets(7000)
	if _, err := ParseText(text); err == nil {
		t.Fatal("Parse reads the stream: the test tests nothing")
	}
	out, err := DocumentsJSON([]byte(text))
	if err != nil || strings.Count(string(out), `"kind": "Secret"`) != 7000 {
		t.Fatalf("-o json of 7,000 Secrets: %v", err)
	}
	if out, err = DocumentsYAML([]byte(text)); err != nil || strings.Count(string(out), "kind: Secret") != 7000 {
		t.Fatalf("-o yaml of 7,000 Secrets: %v", err)
	}
	flow := "---\nkind: ConfigMap\ndata: [" + strings.Repeat("1,", 1<<18) + "1]\n"
	if _, err := DocumentsJSON([]byte(text + flow)); err == nil || !strings.Contains(err.Error(), "doc 7001: ") || !strings.Contains(err.Error(), "YAML nodes, more than") {
		t.Fatalf("a document over the budget after 7,000: %v", err)
	}
}

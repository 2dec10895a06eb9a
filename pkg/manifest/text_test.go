package manifest_test

import (
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/manifest"
)

// The Text of every top-level document, concatenated, is the input again.
func TestTextRoundTrip(t *testing.T) {
	in := "# head\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- # sep\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, namespace: ns}\n  data: {k: dg==}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: ns}\n"
	s, err := manifest.Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	items := 0
	for _, d := range s.Docs {
		if d.Item() >= 0 {
			items++
			if d.Text() != "" {
				t.Errorf("list item %d has text %q", d.Item(), d.Text())
			}
		}
		b.WriteString(d.Text())
	}
	if b.String() != in {
		t.Errorf("concatenated Text:\n%s\nwant:\n%s", b.String(), in)
	}
	if items != 1 {
		t.Errorf("%d list items, want 1", items)
	}
}

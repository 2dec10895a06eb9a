package yamlevents

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want Summary
	}{
		{"secret", "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n",
			Summary{Documents: 1, Nodes: 9, Root: RootMapping, Header: Header{APIVersion: "v1", Kind: "Secret"}}},
		{"complex key before kind", "? [a]\n: x\nkind: Secret\n",
			Summary{Documents: 1, Nodes: 6, Root: RootMapping, Header: Header{Kind: "Secret"}}},
		{"duplicate kind", "kind: Secret\nkind: ConfigMap\n",
			Summary{Documents: 1, Nodes: 5, Root: RootMapping, Header: Header{Kind: "Secret", Duplicate: true}}},
		{"list", "kind: List\nitems:\n- {kind: Secret, apiVersion: v1}\n- [x]\n- 3\n",
			Summary{Documents: 1, Nodes: 13, Root: RootMapping, Header: Header{Kind: "List"}, HasItems: true, ItemsKey: true,
				Items: []Header{{APIVersion: "v1", Kind: "Secret"}}, ItemLists: 1}},
		{"sequence", "- kind: Secret\n",
			Summary{Documents: 1, Nodes: 4, Root: RootSequence, Items: []Header{{Kind: "Secret"}}, Incomplete: 1}},
		{"items that say nothing are not kept", "items:\n- {}\n- {a: 1}\n",
			Summary{Documents: 1, Nodes: 7, Root: RootMapping, HasItems: true, ItemsKey: true, Items: []Header{}, Incomplete: 2}},
		{"kind as !!binary", "apiVersion: v1\nkind: !!binary U2VjcmV0\n",
			Summary{Documents: 1, Nodes: 5, Root: RootMapping, Header: Header{APIVersion: "v1", Kind: "U2VjcmV0", Disguised: true}}},
		{"kind as an alias", "metadata: {labels: {k: &k Secret}}\nkind: *k\n",
			Summary{Documents: 1, Nodes: 9, Aliases: 2, Root: RootMapping, Header: Header{Disguised: true}}},
		{"a tagged key", "!!binary a2luZA==: Secret\n",
			Summary{Documents: 1, Nodes: 3, Root: RootMapping, Header: Header{Disguised: true}}},
		{"kind as a plain !!str is fine", "kind: !!str Secret\n",
			Summary{Documents: 1, Nodes: 3, Root: RootMapping, Header: Header{Kind: "Secret"}}},
		{"nested kind is not the object's", "metadata: {kind: Secret}\n",
			Summary{Documents: 1, Nodes: 5, Root: RootMapping}},
		{"aliases", "a: &x [1]\nb: *x\n",
			Summary{Documents: 1, Nodes: 6, Aliases: 2, Root: RootMapping}},
		{"two documents", "a: 1\n--- {kind: Secret}\n",
			Summary{Documents: 2, Nodes: 6, Root: RootMapping}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Summarize([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			got.NotPlain = "" // TestPlainRules
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestSummarizeErrors(t *testing.T) {
	_, err := Summarize([]byte("a: [\n"))
	if err == nil {
		t.Fatal("no error for an unclosed flow sequence")
	}
}

// TestSummarizeEndsOnAParserError: inputs on which the parser records an
// error yet returns an empty event end in that error. Guard: the p.error
// and yaml_NO_EVENT checks after yaml_parser_parse in Summarize (without
// them these inputs loop for ever; the test gives up after a minute).
func TestSummarizeEndsOnAParserError(t *testing.T) {
	for _, in := range []string{
		"n:\n#\n- a\nq",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n#\n- a\nq",
	} {
		done := make(chan error, 1)
		go func() {
			_, err := Summarize([]byte(in))
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "could not find expected ':'") {
				t.Errorf("%q: got %v, want the parser's error", in, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%q: Summarize did not return", in)
		}
	}
}

// TestFreedParserKeepsNoValues: a parser's memory handed on to the next
// keeps its token queue but none of what the tokens held, and not a
// queue a hostile document grew; its buffers are zeroed (the document
// may be plaintext).
func TestFreedParserKeepsNoValues(t *testing.T) {
	for _, text := range []string{"a: b\nc: [d, e]\n", "[" + strings.Repeat("k: v, ", 200) + "]\n"} {
		var p yaml_parser_t
		m := newParser(&p)
		yaml_parser_set_input_string(&p, []byte(text))
		var ev yaml_event_t
		for yaml_parser_parse(&p, &ev) && ev.typ != yaml_STREAM_END_EVENT && ev.typ != yaml_NO_EVENT {
		}
		grown := cap(p.tokens)
		freeParser(&p, m)
		if slices.ContainsFunc(m.raw, func(b byte) bool { return b != 0 }) || slices.ContainsFunc(m.buffer, func(b byte) bool { return b != 0 }) {
			t.Errorf("%q: the freed buffers still hold the document's bytes", text)
		}
		if grown > maxKeptTokens {
			if m.tokens != nil {
				t.Errorf("a queue of %d tokens is kept", grown)
			}
			continue
		}
		for i, tok := range m.tokens[:cap(m.tokens)] {
			if tok.value != nil || tok.typ != yaml_NO_TOKEN {
				t.Errorf("%q: token %d still holds %q", text, i, tok.value)
			}
		}
		if cap(m.tokens) == 0 {
			t.Errorf("%q: no token queue kept", text)
		}
	}
}

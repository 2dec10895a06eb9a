package yamlevents

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// parserEvents is what the parser gives for data: every event, or an
// error.
func parserEvents(data []byte) ([]yaml_event_t, error) {
	var p yaml_parser_t
	yaml_parser_initialize(&p)
	yaml_parser_set_input_string(&p, data)
	var out []yaml_event_t
	for {
		var ev yaml_event_t
		if !yaml_parser_parse(&p, &ev) || p.error != yaml_NO_ERROR || ev.typ == yaml_NO_EVENT {
			return nil, fmt.Errorf("line %d: %s", p.problem_mark.line+1, p.problem)
		}
		out = append(out, ev)
		if ev.typ == yaml_STREAM_END_EVENT {
			return out, nil
		}
	}
}

// eventDiff says how a (fastEvents') differs from b (the parser's), or
// "". Every field is compared, but the marks of end events: nothing
// reads them (summarize, composer), and the parser puts them where its
// scanner happens to be.
func eventDiff(a, b []yaml_event_t) string {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) {
			return fmt.Sprintf("%d events against the parser's %d", len(a), len(b))
		}
		x, y := a[i], b[i]
		switch x.typ {
		case yaml_SEQUENCE_END_EVENT, yaml_MAPPING_END_EVENT, yaml_DOCUMENT_END_EVENT, yaml_STREAM_END_EVENT:
			x.start_mark, x.end_mark = y.start_mark, y.end_mark
		}
		same := x.typ == y.typ && x.start_mark == y.start_mark && x.end_mark == y.end_mark &&
			x.encoding == y.encoding && x.version_directive == y.version_directive && len(x.tag_directives) == 0 && len(y.tag_directives) == 0 &&
			bytes.Equal(x.head_comment, y.head_comment) && bytes.Equal(x.line_comment, y.line_comment) &&
			bytes.Equal(x.foot_comment, y.foot_comment) && bytes.Equal(x.tail_comment, y.tail_comment) &&
			bytes.Equal(x.anchor, y.anchor) && bytes.Equal(x.tag, y.tag) && bytes.Equal(x.value, y.value) &&
			x.implicit == y.implicit && x.quoted_implicit == y.quoted_implicit && x.style == y.style
		if !same {
			return fmt.Sprintf("event %d: %+v, the parser's %+v", i, x, y)
		}
	}
	return ""
}

// checkFast fails unless the parser gives fastEvents' events for data,
// where fastEvents takes it; it reports whether it did.
func checkFast(t *testing.T, data []byte) bool {
	t.Helper()
	r, ok := fastEvents(data)
	if !ok {
		return false
	}
	defer r.free()
	if !plainBytes(data) { // summarize does not ask plainBytes of the form
		t.Fatalf("%q: fastEvents read it, but it is not plain bytes", data)
	}
	want, err := parserEvents(data)
	if err != nil {
		t.Fatalf("%q: fastEvents read it, the parser fails: %v", data, err)
	}
	if d := eventDiff(r.evs, want); d != "" {
		t.Fatalf("%q: %s", data, d)
	}
	// The composer's slab is exactly r.nodes nodes (composer.known).
	nodes := 0
	for _, ev := range want {
		switch ev.typ {
		case yaml_SCALAR_EVENT, yaml_SEQUENCE_START_EVENT, yaml_MAPPING_START_EVENT:
			nodes++
		}
	}
	if r.nodes != nodes {
		t.Fatalf("%q: counted %d nodes, the parser gives %d", data, r.nodes, nodes)
	}
	return true
}

// sealedDoc is a SealedSecret as kseal writes it.
const sealedDoc = `apiVersion: kseal.dev/v1alpha1
kind: SealedSecret
metadata:
  name: s1
  namespace: bench
spec:
  encryptedData:
    password: ALMtEvi5zzW6teoH7Kb4MjWE3QGnjhgU1ZHuQ2eoeIn2NpipK3AQGrIrEbilSzU9xS36fY9u
    url: AI1jfxBjdKs4ImKr3+VcUZXZ7yhTnljkKjqJ1bBpBBlGHiqBZTd7yO42tV8ED67prvMoNPYNN6agHTs+imUeOUcsBrgmjwhg
    username: AOQ3Su+gXZITiJ5PSmpRfTotmhEG1mZGZLNdzhhICZTOsuGW63oC/bxffMbNPA==
  envelope:
    version: 2
    scope: strict
    sealedFor:
      namespace: bench
      name: s1
      template: svXuhgcEia2aPwEVSGUNvRhpD1RVJaDwT54wNMjWVfk=
    sections:
    - recipients:
      - type: mlkem768x25519
        keyID: dd08ff892fda317e
        data: YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IG1sa2VtNzY4eDI1NTE5IGltb0xYczN6TVBhbUtyMGFIRGMyMEtsK3EzQjlZSndBRExrejV4cUlxMVV6VXF2aVRjMjNtMXpzTjArK0krZlkrS0h6bGN2cE9HWWNWQzNkbm85U1BUdTRvSlhXM1ZaaUF2QnlvK29KV0FPQkxPYTVWMURxZWlUMXVFbTlkemRKOU9xSU9qZk0zU3BSNkUwUTQ0NEtTSW5PN0haSjZGSWdmK2VLdVYrenVqWEJCdG5FdVZqVjRGTjJBRmN3bExrTFpWR0d0YlY0VWpUMVpWemhuWTNXQ1UzZGZ0eHdidzRPS2h4LzlIdFBxQ2lNK2dWMEFrVElGSzIwOWl2Sm85SDIwM1JEMnlCaExKZVRRV3QrcTFYWmtDR0grS0NpT1lKaFpOWW1YbDUzL3JCQ1R6QklhQ3o3MEpKNUM2VTNoS1VEYjlvYy8wOWpIbGoyV2lyWjBzVFluWi84aWRhdHQ5VFRvQ1F2dkNqWXJFdlc5VE9tN3RYUTFRalJlSVBxcGJWKzV1V0Rra2FKRlpnZGxRY3RZSDVoRDd0cVU4WUxqSjBaTEZCckZkQVl1UDFXYzc0Z0VwL0Z4bjliNmdWYTR4emcvWWZ0bHdKKzVHemJvS2tqdWZUVHRKdTJXbHYvZVZyM3lpLzJIbHVwYXdUMTlwdjlPcHRib2k0Ykc5emt1Z1JDQzFLTW5OZGZPZy83RFlwVEVvdHNrclJaR2pnVE9Cc2VxaUhVK2dCUkFDOWxzVlAzbVE5WWdNM2NTODhXdmZwRzM2QXQ2bUF2OVNRbXQ4S2gza1kzRE1MZUVBNzlJTXZrSjd5USt1ZGlWeWRERmNnU2Ewb1pVS3M2b2R3ZDlWKzRPOUtreExlVGYrM0NISzJLWDFqSm01SnZRVTkyWmNBMFpvb1VVeWRteXhacmNrRDhMTnJWMFZtRW5yenZxWVNZSFBOR0ZYSU5tQWRjTnNLUEk0czk1L1ZCa0V2YWtYNnFoTjJITVd4YXdvU1MwK0pQK0I4MkZyeGV1S3pkZW03aEhtZC9QemVyTE1qOW5vUFgrU0gxUURPcHd0amZlNi9rQU00ckNKTDc2TDMzWk5WWmUycEh6UFZXRmhVbjJWYlI1YnFQcGZEZUtSQ2lIYmpkOGxjckhMc21FSFA1djJURU9MN0pHWmY2eC9MaUZtTGFpZm5xQkY2dEg4U3BJOHZ2OGIwazNRNkFSY2l4djQ4eWNLaEkxaVBxcXNHaW9DTks4aVprTW96OXVOMmJsZTVjN3RPYWw3WVJtTFFSaWZEWks4NmpDVFhOZTFCdm0xUTBjKzg4YXB6Zk9xeXRwRWVLUUVaNVBUVzFHUVZ2K3R5R1lGaEF6NVkrWlhGaFN3TFo3QktDQ2RxdmEyWlNTclhZQ3NvV0dpc25rZHRJcnJYY3BRZG80aE9XYUZxTmJTMUpOLzFSclFrU0dWQ0xXSmVSMHdFd3RmbDFERHFMN2NGMjBnQmVxTFdkMFp1dXpUQ1ZJY1ZiYWJNNW5ObElzNUFyS2RVdDlWZU85ZnlMbDJUQUVwZUxUOFRIVFdUeWFYemNrbkdpaTlzZ1RtVTRMWTJtdUNUbU01OWlQVnJEeVZ6c2M0cHprNlppSlFsTW14d3d2ajRaRkJ3UmFMdm9TMnV3MDBZdHNGaXNHbFNzc29GaVQwYTR2Nm1SeGs0bzlJVzlKWkp6S082cHJITkJpeEVWQzh0cm95bnBTcmNQTDc3ZUk4Zk1vbnByOGxwWitaWDFMdFVBTlNTcGV4eW5pOEdYcXpxOGpCM20vK1VLVXRTWEdvaTlqUW9OWktQSU41T1B3YXRvamZ4WEZjc2ZMd3kxMUZDVW55a2FGZU5mdDVRcmN2aStidTJpK1l4OE04QytzWk13cTJyUGpVUm9GYzRQc0IwdjVoZmU2QlZRRWdhV0NmREszRVFXVnpGUXVKWmpudmoyc3YvU2xlR0xLeW5yLzlyY2FPbGgzUmp3VGkrQjRrTzZjZwpJQnlYUHdpNjJQelBMWUJicTM4L0I3MlNHQlB2NGxRU1MzQ0tjaGk1alpRCi0tLSBIYWVIQXBRdkd3Vm9hbWdaQWFNd3lyM3FLZzlZYVNOQWRnRytXVUN3eE40Ci7xK2jA737oyJknyvQnqPXpmHi29lN2wlcUkB0Tu1qVE9+orSMOlfASG0I9S7IEFmzY8wZw+7DyHyp9dFoPG8k=
      mac: ZMnZV/EPdMavmUV6pdVIuJ70H65MjhlcQ2K84Htzdk8=
`

func TestFastEventsAreTheParsers(t *testing.T) {
	for _, text := range []string{
		sealedDoc,
		"a: b\n",
		"a:\n  b: c\n",
		"a:\n- b\n- c\nd: e\n",
		"a:\n  - b\n  - c\nd: e\n",
		"a:\n- b: c\n  d: e\n- f\ng: h\n",
		"a:\n  - b:\n    - c\n    d: e\n  - f:\n      g: h\ni: j\n",
		"a:\n  b:\n    c:\n      d: e\n  f: g\nh: i\n",
		"a:\n - b\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  namespace: y\ndata:\n  k: dmFsdWU=\n  k.2_3-x: +/9=\n",
		"a: 1\nb: 0x10\nc: true\nd: null\ne: 1.5\nf: yes\ng: _\n",
		"url: postgres://db1.example:5432/app\nb: 1:20\nc: a::b\nd: x:y:z\n",
		deep(fastMaxDepth),
		strings.Repeat("k", fastMaxKey) + ": v\n",
		"a:\n- " + strings.Repeat("k", fastMaxKey) + ": v\n",
		"a:\n" + strings.Repeat("- b\n", fastMaxEvents-10),
	} {
		if !checkFast(t, []byte(text)) {
			t.Errorf("%q: fastEvents declines it, want it read", text)
		}
	}
	// Not of the form: the parser reads these, or fails on them.
	for _, text := range []string{
		"", "a: b", "a: b\n\n", "\na: b\n", "a: b # c\n", "# c\na: b\n", "a: 'b'\n", "a: \"b\"\n",
		"a:\n", "a:\nb: c\n", "a: b c\n", "a:  b\n", "a: b \n", "a: &x b\n", "a: *x\n", "a: !!str b\n",
		"a: [b]\n", "a: {b: c}\n", "a: |\n  b\n", "- a\n", " a: b\n", "a: b\n c: d\n", "a:\n  - b\n  c: d\n",
		"a: b\n---\nc: d\n", "a: b\n...\n", "---\na: b\n", "a: b\r\n", "a:\tb\n", "a: -b\n", "-a: b\n",
		"a: .b\n", "a: b:\n", "a: b: c\n", "a:b: c\n", "- a:b\n", "a:\n- b:c\n", "a: b\nc:\n-\n", "a: b\nc:\n- - d\n", "<<: a\n", "a: é\n", "? a\n: b\n",
		"a:\n    b: c\n  d: e\n", deep(fastMaxDepth + 1),
		// the scanner refuses a key longer than 1024 characters
		strings.Repeat("k", fastMaxKey+1) + ": v\n", "a:\n- " + strings.Repeat("k", fastMaxKey+1) + ": v\n",
		// more events than fastEvents holds: the parser's, one at a time
		"a:\n" + strings.Repeat("- b\n", fastMaxEvents), "a:\n" + strings.Repeat("  b: c\n", fastMaxEvents/2),
	} {
		if r, ok := fastEvents([]byte(text)); ok {
			t.Errorf("%q: fastEvents reads it (%d events), want it declined", text, len(r.evs))
			r.free()
		}
	}
}

// deep is a document of n mappings one in another.
func deep(n int) string {
	var b strings.Builder
	for i := range n - 1 {
		fmt.Fprintf(&b, "%sa:\n", strings.Repeat(" ", i))
	}
	fmt.Fprintf(&b, "%sb: c\n", strings.Repeat(" ", n-1))
	return b.String()
}

// FuzzFastEvents: whatever fastEvents reads, the parser reads alike.
func FuzzFastEvents(f *testing.F) {
	for _, s := range []string{sealedDoc, "a:\n- b: c\n  d: e\n- f\ng: h\n", "a:\n  - b:\n    - c\n    d: e\n", "a: b\nc:\n  d: e\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
		// and the summary and tree are the parser's too (compose_test.go)
		if r, ok := fastEvents(data); ok {
			r.free()
			sameTree(t, "fuzz", data)
		}
	})
}

// formDoc writes a random document of fastEvents' form: mappings and
// sequences nested up to depth, sequences at their key's column or
// deeper, entries that are words or mappings.
func formDoc(r *rand.Rand, b *strings.Builder, indent, depth int) {
	words := []string{"a", "kind", "v1", "kseal.dev/v1alpha1", "2", "0x1F", "true", "null", "1.5", "+/9=", "dmFsdWU=", "k.2_3-x", "_", "yes", "x-y", "A1"}
	values := append([]string{"postgres://db1.example:5432/app", "1:20", "a::b"}, words...)
	keys := 1 + r.IntN(4)
	for k := range keys {
		pad := strings.Repeat(" ", indent)
		if k == 0 && b.Len() > 0 && strings.HasSuffix(b.String(), "- ") {
			pad = "" // the first key of a sequence entry follows its dash
		}
		key := words[r.IntN(len(words))]
		switch c := r.IntN(5); {
		case depth == 0 || c < 2:
			fmt.Fprintf(b, "%s%s: %s\n", pad, key, values[r.IntN(len(values))])
		case c == 2:
			fmt.Fprintf(b, "%s%s:\n", pad, key)
			formDoc(r, b, indent+1+r.IntN(3), depth-1)
		default:
			fmt.Fprintf(b, "%s%s:\n", pad, key)
			at := indent + r.IntN(2)*(1+r.IntN(2))
			for range 1 + r.IntN(3) {
				fmt.Fprintf(b, "%s- ", strings.Repeat(" ", at))
				if r.IntN(2) == 0 {
					fmt.Fprintf(b, "%s\n", words[r.IntN(len(words))])
				} else {
					formDoc(r, b, at+2, depth-1)
				}
			}
		}
	}
}

// TestFastEventsOnRandomForms: random documents of the form, and each with
// one byte changed, are read alike by fastEvents and the parser, with the
// same summary and tree; those of the form are all read.
func TestFastEventsOnRandomForms(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const mutations = " :-\n#ab'\"&*!|>[]{},.?%@`\t\r"
	read, mutated := 0, 0
	for range 3000 {
		var b strings.Builder
		formDoc(r, &b, 0, 4)
		data := []byte(b.String())
		if !checkFast(t, data) {
			t.Fatalf("%q: fastEvents declines it", data)
		}
		sameTree(t, "form", data)
		read++
		for range 5 {
			m, at := bytes.Clone(data), r.IntN(len(data))
			switch r.IntN(3) {
			case 0:
				m[at] = mutations[r.IntN(len(mutations))]
			case 1: // a byte less: a line joined, an indent one short
				m = append(m[:at], m[at+1:]...)
			default: // a space more
				m = append(m[:at], append([]byte{' '}, m[at:]...)...)
			}
			if checkFast(t, m) {
				sameTree(t, "mutated form", m)
				mutated++
			}
		}
	}
	t.Logf("%d documents of the form, %d of %d changed by a byte still of it", read, mutated, 5*read)
}

// TestFreedFastReaderKeepsNoValues: a reader handed back keeps none of the
// document (plaintext, when sealing) in its events.
func TestFreedFastReaderKeepsNoValues(t *testing.T) {
	for _, text := range []string{sealedDoc, "a:\n" + strings.Repeat("- b\n", fastMaxEvents-10)} {
		r, ok := fastEvents([]byte(text))
		if !ok {
			t.Fatalf("%q: declined", text)
		}
		evs := r.evs
		r.free()
		if cap(r.evs) == 0 {
			t.Errorf("no events' memory kept")
		}
		for i, ev := range evs[:cap(evs)] {
			if ev.value != nil || ev.typ != yaml_NO_EVENT {
				t.Fatalf("event %d still holds %q", i, ev.value)
			}
		}
	}
}

// TestFastEventsHoldFew: however long a document of the form, fastEvents
// holds at most fastMaxEvents and some events at once (a hostile one of a
// million lines took 1 GB when it held them all), and declines it.
func TestFastEventsHoldFew(t *testing.T) {
	for _, line := range []string{"- a\n", "  a: b\n", "- a: b\n"} {
		text := []byte("x:\n" + strings.Repeat(line, 100000))
		if r, ok := fastEvents(text); ok {
			t.Errorf("%q × 100,000: read, %d events", line, len(r.evs))
			r.free()
		}
		r := fastReaders.Get().(*fastReader)
		r.data, r.evs, r.depth = text, r.evs[:0], 0
		r.read()
		if n := len(r.evs); n > fastMaxEvents+fastMaxDepth+4 {
			t.Errorf("%q × 100,000: %d events held, want at most %d", line, n, fastMaxEvents+fastMaxDepth+4)
		}
		r.free()
	}
}

// TestFreedFramesKeepNoKeys: the frames summarize reads a document with
// are kept by its reader for the next one, and its keys are read in place
// (frames.stable): once freed, no frame holds a key of the document.
func TestFreedFramesKeepNoKeys(t *testing.T) {
	r, ok := fastEvents([]byte(sealedDoc))
	if !ok {
		t.Fatal("declined")
	}
	sum := &Summary{}
	for i := range r.evs {
		sum.event(&r.evs[i], nil, &r.frames)
	}
	kept := r.frames.open[:cap(r.frames.open)]
	seen := 0
	for _, f := range kept {
		if f != nil {
			seen += len(f.keys)
		}
	}
	r.free()
	if len(kept) == 0 || seen == 0 {
		t.Fatalf("%d frames kept, %d keys in them before free", len(kept), seen)
	}
	for i, f := range kept {
		if f == nil {
			continue
		}
		if f.key != "" {
			t.Errorf("frame %d still holds key %q", i, f.key)
		}
		for j, k := range f.keys[:cap(f.keys)] {
			if k != "" {
				t.Errorf("frame %d still holds key %d, %q", i, j, k)
			}
		}
	}
}

// TestFramesAreReused: summarize opens every collection of a document
// with a frame its reader already has where one is free at that depth
// (frames.spare): a sealed object's dozen collections take as many
// frames as it is deep. A frame made anew for each (the old way) fails
// it. (By identity, not by counting allocations: see
// TestSlabTreeIsTwoArrays.)
func TestFramesAreReused(t *testing.T) {
	r, ok := fastEvents([]byte(sealedDoc))
	if !ok {
		t.Fatal("declined")
	}
	defer r.free()
	sum := &Summary{}
	seen := map[*frame]bool{}
	collections, depth := 0, 0
	for i := range r.evs {
		sum.event(&r.evs[i], nil, &r.frames)
		if typ := r.evs[i].typ; typ == yaml_MAPPING_START_EVENT || typ == yaml_SEQUENCE_START_EVENT {
			collections++
			seen[r.frames.open[len(r.frames.open)-1]] = true
			depth = max(depth, len(r.frames.open))
		}
	}
	if collections < 10 || len(seen) != depth {
		t.Errorf("%d collections, %d levels deep, took %d frames; want one a level", collections, depth, len(seen))
	}
}

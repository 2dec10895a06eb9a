package cli

import (
	"context"
	"crypto/rand"
	"maps"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

// side is a version of a document as the merge checks see it, with only
// what the case needs filled in.
type side struct {
	scope  crypto.Scope
	skel   string
	values map[string]string
	// sections are the key IDs each section is wrapped to.
	sections [][]string
}

func (s side) mergeSide(name string) *mergeSide {
	env := crypto.Envelope{Scope: s.scope}
	if env.Scope == "" {
		env.Scope = crypto.ScopeStrict
	}
	for _, ids := range s.sections {
		var ws []crypto.Wrap
		for _, id := range ids {
			ws = append(ws, crypto.Wrap{Type: "X25519", KeyID: id})
		}
		env.Sections = append(env.Sections, crypto.Section{Recipients: ws})
	}
	values := map[string][]byte{}
	for k, v := range s.values {
		values[k] = []byte(v)
	}
	return &mergeSide{name: name, skel: s.skel, s: &crypto.Sealed{Envelope: env}, o: &crypto.Opened{Values: values}}
}

// mergeCase is one document's three versions and the reason one check
// gives for them ("" for none).
type mergeCase struct {
	name    string
	b, o, t side
	want    string
}

// runMergeCases runs one check over each case's input.
func runMergeCases(t *testing.T, check func(*mergeInput) error, cases []mergeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newMergeInput(tc.b.mergeSide("base"), tc.o.mergeSide("ours"), tc.t.mergeSide("theirs"))
			err := check(in)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want a refusal holding %q", err, tc.want)
			}
		})
	}
}

func TestMergeCheckSameScope(t *testing.T) {
	runMergeCases(t, sameScope, []mergeCase{
		{"unchanged", side{}, side{}, side{}, ""},
		{"ours changed it", side{}, side{scope: crypto.ScopeNamespace}, side{}, "the scope changed (strict, namespace, strict)"},
		{"theirs changed it", side{}, side{}, side{scope: crypto.ScopeShared}, "the scope changed (strict, strict, shared)"},
		{"both changed it alike", side{}, side{scope: crypto.ScopeNamespace}, side{scope: crypto.ScopeNamespace}, "the scope changed"},
	})
}

func TestMergeCheckMetadataOnOneSide(t *testing.T) {
	const refusal = "both branches changed its metadata or template"
	runMergeCases(t, metadataOnOneSide, []mergeCase{
		{"unchanged", side{skel: "a"}, side{skel: "a"}, side{skel: "a"}, ""},
		{"ours changed it", side{skel: "a"}, side{skel: "b"}, side{skel: "a"}, ""},
		{"theirs changed it", side{skel: "a"}, side{skel: "a"}, side{skel: "c"}, ""},
		{"both changed it alike", side{skel: "a"}, side{skel: "b"}, side{skel: "b"}, ""},
		{"both changed it differently", side{skel: "a"}, side{skel: "b"}, side{skel: "c"}, refusal},
	})
}

// TestMergeCarrier: the result keeps the metadata of the side that changed
// it, ours otherwise.
func TestMergeCarrier(t *testing.T) {
	for _, tc := range []struct {
		name, b, o, t, want string
	}{
		{"unchanged", "a", "a", "a", "ours"},
		{"ours changed it", "a", "b", "a", "ours"},
		{"theirs changed it", "a", "a", "c", "theirs"},
		{"both changed it alike", "a", "b", "b", "ours"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := carrierOf(side{skel: tc.b}.mergeSide("base"), side{skel: tc.o}.mergeSide("ours"), side{skel: tc.t}.mergeSide("theirs"))
			if c == nil || c.name != tc.want {
				t.Errorf("carrier %v, want %s", c, tc.want)
			}
		})
	}
}

func TestMergeCheckValuesOnOneSide(t *testing.T) {
	base := map[string]string{"a": "1", "b": "2"}
	runMergeCases(t, valuesOnOneSide, []mergeCase{
		{"different values changed", side{values: base}, side{values: map[string]string{"a": "x", "b": "2"}}, side{values: map[string]string{"a": "1", "b": "y"}}, ""},
		{"one value changed alike", side{values: base}, side{values: map[string]string{"a": "x", "b": "2"}}, side{values: map[string]string{"a": "x", "b": "2"}}, ""},
		{"one value changed differently", side{values: base}, side{values: map[string]string{"a": "x", "b": "2"}}, side{values: map[string]string{"a": "z", "b": "2"}}, "both branches changed " + crypto.Field("a")},
		{"removed on one side, changed on the other", side{values: base}, side{values: map[string]string{"b": "2"}}, side{values: map[string]string{"a": "z", "b": "2"}}, "both branches changed " + crypto.Field("a")},
		{"added on both differently", side{values: base}, side{values: map[string]string{"a": "1", "b": "2", "c": "3"}}, side{values: map[string]string{"a": "1", "b": "2", "c": "4"}}, "both branches changed " + crypto.Field("c")},
		{"removed on both", side{values: base}, side{values: map[string]string{"b": "2"}}, side{values: map[string]string{"b": "2"}}, ""},
	})
}

// TestMergeValues: each side's change is taken; a clash is left out and
// named.
func TestMergeValues(t *testing.T) {
	bytesOf := func(m map[string]string) map[string][]byte {
		out := map[string][]byte{}
		for k, v := range m {
			out[k] = []byte(v)
		}
		return out
	}
	for _, tc := range []struct {
		name         string
		b, o, t      map[string]string
		want         map[string]string
		wantClashing []string
	}{
		{"both sides' changes", map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "x", "b": "2"}, map[string]string{"a": "1", "b": "y"}, map[string]string{"a": "x", "b": "y"}, nil},
		{"an addition and a removal", map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1", "b": "2", "c": "3"}, map[string]string{"a": "1"}, map[string]string{"a": "1", "c": "3"}, nil},
		{"a clash left out", map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "x", "b": "2"}, map[string]string{"a": "z", "b": "y"}, map[string]string{"b": "y"}, []string{crypto.Field("a")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, clash := mergeValues(bytesOf(tc.b), bytesOf(tc.o), bytesOf(tc.t))
			if !maps.EqualFunc(got, bytesOf(tc.want), slices.Equal) || !slices.Equal(clash, tc.wantClashing) {
				t.Errorf("got %q, clash %v; want %q, %v", got, clash, tc.want, tc.wantClashing)
			}
		})
	}
}

func TestMergeCheckRecipientsKept(t *testing.T) {
	one := [][]string{{"A"}}
	runMergeCases(t, recipientsKept, []mergeCase{
		{"one section each", side{sections: one}, side{sections: one}, side{sections: [][]string{{"A", "B"}}}, ""},
		{"an appended section to the same keys", side{sections: one}, side{sections: [][]string{{"A"}, {"A"}}}, side{sections: one}, ""},
		{"an appended section adds a key", side{sections: one}, side{sections: one}, side{sections: [][]string{{"A"}, {"A", "C"}}}, "a section appended later is wrapped to C"},
	})
}

func TestMergeCheckRecipientsOnOneSide(t *testing.T) {
	a, ab, ac := [][]string{{"A"}}, [][]string{{"A", "B"}}, [][]string{{"A", "C"}}
	const refusal = "both branches changed the recipients"
	runMergeCases(t, recipientsOnOneSide, []mergeCase{
		{"unchanged", side{sections: a}, side{sections: a}, side{sections: a}, ""},
		{"ours added one", side{sections: a}, side{sections: ab}, side{sections: a}, ""},
		{"theirs added one", side{sections: a}, side{sections: a}, side{sections: ab}, ""},
		{"both added the same", side{sections: a}, side{sections: ab}, side{sections: ab}, ""},
		{"both added different ones", side{sections: a}, side{sections: ab}, side{sections: ac}, refusal},
	})
	// The merged recipients are the changed side's.
	in := newMergeInput(side{sections: a}.mergeSide("base"), side{sections: a}.mergeSide("ours"), side{sections: ab}.mergeSide("theirs"))
	if !slices.Equal(in.keyIDs, []string{"A", "B"}) {
		t.Errorf("merged recipients %v, want theirs", in.keyIDs)
	}
}

// TestMergeCheckBothExtendBase: both sides must continue the base's chain
// of sections; a side sealed anew (or an older version) does not, even
// with the same values and recipients.
func TestMergeCheckBothExtendBase(t *testing.T) {
	ctx := context.Background()
	id, err := agekey.Generate(false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := id.OwnRecipient()
	if err != nil {
		t.Fatal(err)
	}
	target := crypto.Target{Namespace: "prod", Name: "db"}
	rcpts, ids := []keys.Recipient{r}, []keys.Identity{id}
	open := func(name string, s *crypto.Sealed) *mergeSide {
		t.Helper()
		o, err := crypto.Open(ctx, s, target, ids)
		if err != nil {
			t.Fatal(err)
		}
		return &mergeSide{name: name, s: s, o: o}
	}
	values := map[string][]byte{"password": []byte("hunter2")}
	seal := func() *crypto.Sealed {
		t.Helper()
		s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, target, values, rcpts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := open("base", seal())
	extended := func(name string) *mergeSide {
		t.Helper()
		s, err := base.o.Update(ctx, rand.Reader, target.Template, map[string][]byte{"password": []byte("hunter2"), name: []byte("new")}, rcpts)
		if err != nil {
			t.Fatal(err)
		}
		return open(name, s)
	}
	for _, tc := range []struct {
		name string
		o, t *mergeSide
		want string
	}{
		{"both extend it", extended("ours"), extended("theirs"), ""},
		{"ours is the base itself", open("ours", base.s), extended("theirs"), ""},
		{"ours sealed anew", open("ours", seal()), extended("theirs"), "ours does not extend the base's sections"},
		{"theirs sealed anew", extended("ours"), open("theirs", seal()), "theirs does not extend the base's sections"},
		{"both sealed anew", open("ours", seal()), open("theirs", seal()), "ours and theirs do not extend the base's sections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := bothExtendBase(newMergeInput(base, tc.o, tc.t))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want a refusal holding %q", err, tc.want)
			}
		})
	}
}

// TestMergeChecksOrder: the first check that refuses gives the conflict,
// in the order the merge driver has always reported them (the
// git_merge*.txtar scripts hold the messages), each check under its own
// name.
func TestMergeChecksOrder(t *testing.T) {
	var names []string
	for _, c := range mergeChecks {
		names = append(names, c.name)
	}
	want := []string{"same-scope", "both-extend-base", "metadata-on-one-side", "values-on-one-side", "recipients-kept", "recipients-on-one-side"}
	if !slices.Equal(names, want) {
		t.Fatalf("checks %v, want %v", names, want)
	}
}

package manifest

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
)

// viaJSON is how envelopeNode built the tree before envelopeTree.
func viaJSON(t *testing.T, env *crypto.Envelope) any {
	t.Helper()
	j, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	n, err := jsonNode(j)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEnvelopeTreeIsJSONNodes: envelopeTree builds, node for node, the
// tree jsonNode reads from json.Marshal, for envelopes with every field
// set, empty, nil and absent, and strings encoding/json escapes; it gives
// up on a string that is not UTF-8, which encoding/json would change.
func TestEnvelopeTreeIsJSONNodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bytesOf := func() []byte {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	strs := []string{"", "strict", "a<b>&c", "é", "1e5", "true", "null", "x\ny", "\u2028", "kseal.dev/x"}
	str := func() string { return strs[rng.IntN(len(strs))] }
	envs := []*crypto.Envelope{{}, {Sections: []crypto.Section{}}, {Sections: []crypto.Section{{}}}}
	for range 300 {
		e := &crypto.Envelope{Version: rng.IntN(5) - 1, Scope: crypto.Scope(str())}
		if rng.IntN(2) == 0 {
			e.SealedFor = &crypto.SealedFor{Namespace: str(), Name: str(), Template: bytesOf()}
		}
		if rng.IntN(5) > 0 {
			e.Sections = []crypto.Section{}
			for range rng.IntN(3) {
				s := crypto.Section{MAC: bytesOf()}
				if rng.IntN(4) > 0 {
					s.Recipients = []crypto.Wrap{}
					for range rng.IntN(3) {
						s.Recipients = append(s.Recipients, crypto.Wrap{Type: str(), KeyID: str(), Data: bytesOf()})
					}
				}
				if rng.IntN(3) == 0 {
					s.Removed = []crypto.Removal{}
					for range rng.IntN(3) {
						s.Removed = append(s.Removed, crypto.Removal{Field: str(), Section: rng.IntN(3), Digest: bytesOf()})
					}
				}
				e.Sections = append(e.Sections, s)
			}
		}
		envs = append(envs, e)
	}
	for i, e := range envs {
		got, ok := envelopeTree(e)
		if !ok {
			t.Fatalf("envelope %d: not built", i)
		}
		if want := viaJSON(t, e); !reflect.DeepEqual(got, want) {
			t.Fatalf("envelope %d (%+v): built tree differs from jsonNode's", i, e)
		}
	}
	for _, bad := range []*crypto.Envelope{
		{Scope: "a\xffb"},
		{SealedFor: &crypto.SealedFor{Name: "\xff"}},
		{Sections: []crypto.Section{{Recipients: []crypto.Wrap{{KeyID: "\xc3"}}}}},
		{Sections: []crypto.Section{{Removed: []crypto.Removal{{Field: "\x80"}}}}},
	} {
		if _, ok := envelopeTree(bad); ok {
			t.Errorf("%+v: built, though encoding/json changes a string of it", bad)
		}
	}
}

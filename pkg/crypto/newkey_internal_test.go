package crypto

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

// TestNewKeysTheAPIServerTakes: a value is sealed, set or created only
// under a key the API server takes for a Secret: not ".", ".." nor one
// starting with "..". An object sealed before that rule with such a key
// still opens, and the key can be removed (Unset) so that it can be
// applied again.
func TestNewKeysTheAPIServerTakes(t *testing.T) {
	for _, k := range []string{".", "..", "..data", "..a.b", "...", "..-"} {
		if CheckNewKey(k) == nil {
			t.Errorf("CheckNewKey(%q) took it", k)
		}
		if CheckKey(k) != nil {
			t.Errorf("CheckKey(%q) refused it: an object sealed with it would not open", k)
		}
	}
	for _, k := range []string{".a", "a..", "a..b", "a.b", "-..", "_..x", "x."} {
		if err := CheckNewKey(k); err != nil {
			t.Errorf("CheckNewKey(%q): %v", k, err)
		}
	}

	ctx := context.Background()
	id, r := NewTestKey(t, true)
	rs, ids := []keys.Recipient{r}, []keys.Identity{id}
	tg := Target{Namespace: "prod", Name: "db"}
	bad := map[string][]byte{"..data": []byte("x"), "ok": []byte("y")}
	if _, err := Seal(ctx, rand.Reader, ScopeStrict, tg, bad, rs); err == nil || !strings.Contains(err.Error(), `"..data"`) {
		t.Fatalf("sealed under ..data: %v", err)
	}

	checkNewKey = CheckKey // as kseal sealed before the rule
	old, err := Seal(ctx, rand.Reader, ScopeStrict, tg, bad, rs)
	checkNewKey = CheckNewKey
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Set(ctx, rand.Reader, tg, map[string][]byte{"..more": []byte("z")}, rs); err == nil {
		t.Error("set a value under ..more")
	}
	o, err := Open(ctx, old, tg, ids)
	if err != nil || string(o.Values["..data"]) != "x" {
		t.Fatalf("an object sealed before the rule does not open: %v", err)
	}
	if err := old.Unset(ctx, rand.Reader, tg, []string{"..data"}, rs); err != nil {
		t.Fatalf("removing ..data: %v", err)
	}
	if o, err = Open(ctx, old, tg, ids); err != nil || len(o.Values) != 1 || string(o.Values["ok"]) != "y" {
		t.Fatalf("after removing ..data: %v, %v", o, err)
	}
}

package crypto

import (
	"context"
	"crypto/rand"
	"maps"
	"slices"
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

// TestExtends: the merge driver merges only versions that extend the
// base's chain (review findings: a rotated-away value brought back by
// restoring an older version; a keyless writer's template laundered).
// Guards: the section count, the data keys, the template digest, the
// values sealed per section and the recipients per section in Extends;
// mustFold (a recipient added to several sections folds them).
func TestExtends(t *testing.T) {
	ctx := context.Background()
	id1, r1 := NewTestKey(t, true)
	id2, r2 := NewTestKey(t, true)
	ids := []keys.Identity{id1, id2}
	tg := Target{Namespace: "prod", Name: "db"}
	open := func(s *Sealed, tg Target) *Opened {
		t.Helper()
		o, err := Open(ctx, s, tg, ids)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	v1 := map[string][]byte{"username": []byte("admin"), "password": []byte("leaked-old")}
	s0, err := Seal(ctx, rand.Reader, ScopeStrict, tg, v1, []keys.Recipient{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	old := open(s0, tg)
	// base: the password rotated (a section appended).
	sb := s0.clone()
	if err := sb.Set(ctx, rand.Reader, tg, map[string][]byte{"password": []byte("rotated")}, []keys.Recipient{r1, r2}); err != nil {
		t.Fatal(err)
	}
	base := open(sb, tg)

	appended := sb.clone() // as kseal set without a key
	if err := appended.Set(ctx, rand.Reader, tg, map[string][]byte{"token": []byte("t")}, []keys.Recipient{r1}); err != nil {
		t.Fatal(err)
	}
	removed := sb.clone()
	if err := removed.Unset(ctx, rand.Reader, tg, []string{"username"}, []keys.Recipient{r1}); err != nil {
		t.Fatal(err)
	}
	edited, err := base.Update(ctx, rand.Reader, tg.Template, map[string][]byte{"username": []byte("admin2"), "password": []byte("rotated")}, []keys.Recipient{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	evilTg := tg
	evilTg.Template.Annotations = map[string]string{"reflector.v1.k8s.emberstack.com/reflection-allowed-namespaces": "attacker-ns"}
	templated, err := base.Update(ctx, rand.Reader, evilTg.Template, base.Values, []keys.Recipient{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Seal(ctx, rand.Reader, ScopeStrict, tg, base.Values, []keys.Recipient{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	_, r3 := NewTestKey(t, true)
	// Adding a recipient keeps the data key of an object of one section
	// and folds one of several into a fresh one.
	widened, err := old.AddRecipients(ctx, []keys.Recipient{r3})
	if err != nil {
		t.Fatal(err)
	}
	widenedFolded, err := base.Rewrap(ctx, rand.Reader, []keys.Recipient{r1, r2, r3})
	if err != nil {
		t.Fatal(err)
	}
	// The same removal made twice: the two differ only in the last
	// section's data key (and so its wraps and commitment).
	unset := func() *Opened {
		u := sb.clone()
		if err := u.Unset(ctx, rand.Reader, tg, []string{"username"}, []keys.Recipient{r1}); err != nil {
			t.Fatal(err)
		}
		return open(u, tg)
	}
	unsetBase, unsetAgain := unset(), unset()
	narrowed, err := base.Rewrap(ctx, rand.Reader, []keys.Recipient{r1})
	if err != nil {
		t.Fatal(err)
	}

	// Whoever sealed the base's sections knows their data keys (sealing
	// needs public keys only) and can recommit them: to another template,
	// to other values, or without a recipient. Same data keys throughout.
	recommitted, err := base.reseal(ctx, evilTg, []keys.Recipient{r1, r2}, make([]bool, len(base.keys)))
	if err != nil {
		t.Fatal(err)
	}
	swapped := sb.clone()
	if swapped.Values["username"], err = base.keys[0].sealValue(rand.Reader, 0, ScopeStrict, tg, "username", []byte("attacker")); err != nil {
		t.Fatal(err)
	}
	recommit(swapped, base.keys, tg)
	stripped := sb.clone()
	stripped.Envelope.Sections[0].Recipients = slices.DeleteFunc(slices.Clone(stripped.Envelope.Sections[0].Recipients), func(w Wrap) bool { return w.KeyID == r2.KeyID() })
	recommit(stripped, base.keys, tg)
	// Whoever sealed the rotation's section takes its removal back: the
	// old password returns in section 0, the rotated one is "removed" by a
	// section appended after. Every section seals the same values as
	// before; only the removals moved.
	undone := sb.clone()
	if err := undone.Unset(ctx, rand.Reader, tg, []string{"password"}, []keys.Recipient{r1}); err != nil {
		t.Fatal(err)
	}
	uk := open(undone, tg).keys
	undone.Values["password"] = s0.Values["password"]
	undone.Envelope.Sections[1].Removed = nil
	recommit(undone, uk, tg)
	if o := open(undone, tg); string(o.Values["password"]) != "leaked-old" {
		t.Fatalf("test set-up: the undone removal opens to %q", o.Values["password"])
	}

	for _, c := range []struct {
		name string
		o    *Opened
		base *Opened // base when nil
		want bool
	}{
		{"itself", base, nil, true},
		{"a section appended without a key", open(appended, tg), nil, true},
		{"a value removed without a key", open(removed, tg), nil, true},
		{"edited with a key", open(edited, tg), nil, true},
		{"a recipient added to one section", open(widened, tg), old, true},
		{"a recipient added to several sections", open(widenedFolded, tg), nil, false},
		{"the older version", old, nil, false},
		{"sealed anew", open(fresh, tg), nil, false},
		{"the template changed", open(templated, evilTg), nil, false},
		{"a recipient dropped", open(narrowed, tg), nil, false},
		{"recommitted to another template", open(recommitted, evilTg), nil, false},
		{"recommitted to another value", open(swapped, tg), nil, false},
		{"recommitted without a recipient", open(stripped, tg), nil, false},
		{"a removal taken back", open(undone, tg), nil, false},
		{"only the data key differs", unsetAgain, unsetBase, false},
	} {
		b := c.base
		if b == nil {
			b = base
		}
		if got := c.o.Extends(b); got != c.want {
			t.Errorf("%s: Extends = %v, want %v", c.name, got, c.want)
		}
	}
}

// recommit recomputes every commitment of s with ks, as whoever holds the
// data keys can.
func recommit(s *Sealed, ks []*sectionKeys, tg Target) {
	for i, k := range ks {
		s.Envelope.Sections[i].MAC = k.mac(s, i, tg)
	}
}

// clone copies s deeply enough that sections and values can be changed.
func (s *Sealed) clone() *Sealed {
	c := &Sealed{Envelope: s.Envelope, Values: maps.Clone(s.Values)}
	c.Envelope.Sections = slices.Clone(s.Envelope.Sections)
	for i := range c.Envelope.Sections {
		c.Envelope.Sections[i].Recipients = slices.Clone(c.Envelope.Sections[i].Recipients)
		c.Envelope.Sections[i].Removed = slices.Clone(c.Envelope.Sections[i].Removed)
	}
	return c
}

package crypto_test

// Attacks from the threat model (../shared/DESIGN.md) by a git writer with
// no private key and by a recipient who was removed. Each test names the
// guard in pkg/crypto that it depends on.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/testkeys"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

var (
	clearRcpt = []keys.Recipient{testkeys.ClearRecipient{}}
	clearIDs  = []keys.Identity{testkeys.ClearIdentity{}}
)

func plain(m map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func strs(m map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// Guard: the template digest in every section's commitment (mac in seal.go).
func TestTemplateIsAuthenticated(t *testing.T) {
	x := newKey(t, true)
	base := crypto.Template{Type: "Opaque", Labels: map[string]string{"app": "orders"}, Annotations: map[string]string{"owner": "team-a"}}
	tg := crypto.Target{Namespace: "prod", Name: "db", Template: base}
	s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, tg, values(), []keys.Recipient{x.rcp})
	if err != nil {
		t.Fatal(err)
	}
	withSet := clone(s)
	if err := withSet.Set(ctx, rand.Reader, tg, map[string][]byte{"token": []byte("t")}, []keys.Recipient{x.rcp}); err != nil {
		t.Fatal(err)
	}
	change := func(f func(*crypto.Template)) crypto.Target {
		c := tg
		c.Template = crypto.Template{Type: base.Type, Immutable: base.Immutable, Labels: maps.Clone(base.Labels), Annotations: maps.Clone(base.Annotations)}
		f(&c.Template)
		return c
	}
	for _, tc := range []struct {
		name string
		tg   crypto.Target
	}{
		{"replication annotation added", change(func(t *crypto.Template) { t.Annotations["replicator.v1.mittwald.de/replicate-to"] = "*" })},
		{"annotation changed", change(func(t *crypto.Template) { t.Annotations["owner"] = "team-b" })},
		{"annotation removed", change(func(t *crypto.Template) { delete(t.Annotations, "owner") })},
		{"label added", change(func(t *crypto.Template) { t.Labels["exposed"] = "true" })},
		{"labels removed", change(func(t *crypto.Template) { t.Labels = nil })},
		{"type changed", change(func(t *crypto.Template) { t.Type = "kubernetes.io/service-account-token" })},
		{"made immutable", change(func(t *crypto.Template) { t.Immutable = true })},
		{"label moved to annotations", change(func(t *crypto.Template) { t.Annotations["app"] = "orders"; delete(t.Labels, "app") })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, obj := range map[string]*crypto.Sealed{"sealed": s, "after a key-less set": withSet} {
				_, err := crypto.Open(ctx, obj, tc.tg, []keys.Identity{x.id})
				if !errors.Is(err, crypto.ErrIntegrity) {
					t.Errorf("%s: changed template: got %v, want an integrity failure", name, err)
				}
			}
		})
	}
	t.Run("a key-less set cannot change the template", func(t *testing.T) {
		c := clone(s)
		evil := change(func(t *crypto.Template) { t.Annotations["replicator.v1.mittwald.de/replicate-to"] = "*" })
		if err := c.Set(ctx, rand.Reader, evil, map[string][]byte{"x": []byte("y")}, []keys.Recipient{x.rcp}); err != nil {
			t.Fatal(err)
		}
		if _, err := crypto.Open(ctx, c, evil, []keys.Identity{x.id}); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("got %v, want an integrity failure in section 0", err)
		}
	})
	t.Run("equivalent spellings still open", func(t *testing.T) {
		same := change(func(t *crypto.Template) { t.Type = "" }) // the API server's default
		if _, err := crypto.Open(ctx, s, same, []keys.Identity{x.id}); err != nil {
			t.Fatal(err)
		}
		empty := crypto.Target{Namespace: "prod", Name: "db", Template: crypto.Template{Labels: map[string]string{}}}
		e, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, empty, values(), []keys.Recipient{x.rcp})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := crypto.Open(ctx, e, prodDB, []keys.Identity{x.id}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("edit with a key may change it", func(t *testing.T) {
		o, err := crypto.Open(ctx, s, tg, []keys.Identity{x.id})
		if err != nil {
			t.Fatal(err)
		}
		nt := change(func(t *crypto.Template) { t.Immutable = true })
		u, err := o.Update(ctx, rand.Reader, nt.Template, o.Values, []keys.Recipient{x.rcp})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := crypto.Open(ctx, u, nt, []keys.Identity{x.id}); err != nil {
			t.Fatal(err)
		}
		if _, err := crypto.Open(ctx, u, tg, []keys.Identity{x.id}); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("the old template still opens the edited object: %v", err)
		}
	})
}

// TestReviewRollbackAttack is the attack the review found against version
// 1: bring back a value replaced by `set` while keeping a later change, by
// putting the old ciphertext back, deleting its removal record and
// recording the newer value as removed.
//
// Guard: removals are in the commitment of the section that made them.
func TestReviewRollbackAttack(t *testing.T) {
	s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, prodDB, plain(map[string]string{"password": "old", "user": "u"}), clearRcpt)
	if err != nil {
		t.Fatal(err)
	}
	old := clone(s)
	if err := s.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"password": "new"}), clearRcpt); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"later": "kept"}), clearRcpt); err != nil {
		t.Fatal(err)
	}
	newer := s.Values["password"]
	newerDigest := sha256.Sum256(newer)
	for _, in := range []int{1, 2} {
		t.Run(fmt.Sprintf("newer value recorded as removed in section %d", in), func(t *testing.T) {
			c := clone(s)
			c.Values["password"] = old.Values["password"]
			c.Envelope.Sections[1].Removed = nil
			c.Envelope.Sections[in].Removed = append(c.Envelope.Sections[in].Removed, crypto.Removal{Field: "data.password", Section: 1, Digest: newerDigest[:]})
			o, err := crypto.Open(ctx, c, prodDB, clearIDs)
			if err == nil {
				t.Fatalf("the old value came back with the later change kept: %v", strs(o.Values))
			}
		})
	}
	t.Run("a removal moved to another section", func(t *testing.T) {
		c := clone(s)
		c.Envelope.Sections[2].Removed = c.Envelope.Sections[1].Removed
		c.Envelope.Sections[1].Removed = nil
		if _, err := crypto.Open(ctx, c, prodDB, clearIDs); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a section dropped from the middle", func(t *testing.T) {
		c := clone(s)
		c.Envelope.Sections = slices.Delete(c.Envelope.Sections, 1, 2)
		c.Values["password"] = old.Values["password"]
		c.Values["later"] = append([]byte{1}, c.Values["later"][1:]...)
		if _, err := crypto.Open(ctx, c, prodDB, clearIDs); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("two sections swapped", func(t *testing.T) {
		c := clone(s)
		c.Envelope.Sections[1], c.Envelope.Sections[2] = c.Envelope.Sections[2], c.Envelope.Sections[1]
		if _, err := crypto.Open(ctx, c, prodDB, clearIDs); err == nil {
			t.Fatal("swapped sections opened")
		}
	})
	t.Run("rolling the whole object back opens the old state exactly", func(t *testing.T) {
		o, err := crypto.Open(ctx, old, prodDB, clearIDs)
		if err != nil {
			t.Fatal(err)
		}
		if got := strs(o.Values); !maps.Equal(got, map[string]string{"password": "old", "user": "u"}) {
			t.Fatalf("got %v", got)
		}
	})
}

// keptKey is a recipient who was removed but kept a data key from an older
// version in git: it "unwraps" every stanza to that key.
type keptKey struct{ dek []byte }

func (k keptKey) Unwrap(context.Context, *keys.Stanza, keys.Binding) ([]byte, error) {
	return k.dek, nil
}

// clearAs is a see-through recipient with its own key ID, so that one can be
// removed while the other stays.
type clearAs string

func (c clearAs) Wrap(ctx context.Context, dek []byte, b keys.Binding) (*keys.Stanza, error) {
	st, err := testkeys.ClearRecipient{}.Wrap(ctx, dek, b)
	st.KeyID = string(c)
	return st, err
}
func (c clearAs) KeyID() string { return string(c) }

// TestRemovedRecipientReadsNothingNew: once a recipient is dropped, nothing
// sealed afterwards opens with any data key it held: Rewrap and Update seal
// everything again in one section under a fresh data key, also for an
// object of one section whose values did not change (where nothing else
// would draw a fresh key).
//
// Guard: dropsRecipient in Rewrap and Update (a fresh data key).
func TestRemovedRecipientReadsNothingNew(t *testing.T) {
	stay, gone := clearAs("stays"), clearAs("removed")
	one, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, prodDB, values(), []keys.Recipient{stay, gone})
	if err != nil {
		t.Fatal(err)
	}
	two := clone(one)
	if err := two.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"token": "t"}), []keys.Recipient{stay, gone}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []struct {
		name string
		s    *crypto.Sealed
	}{{"one section", one}, {"two sections", two}} {
		// Everything the removed recipient could unwrap from this version.
		var held []keys.Identity
		for _, sec := range obj.s.Envelope.Sections {
			for _, w := range sec.Recipients {
				if w.KeyID == "removed" {
					held = append(held, keptKey{w.Data})
				}
			}
		}
		o, err := crypto.Open(ctx, obj.s, prodDB, clearIDs)
		if err != nil {
			t.Fatal(err)
		}
		// freshlySealed: one section under a data key the removed
		// recipient never held, opening to want.
		freshlySealed := func(t *testing.T, r *crypto.Sealed, want map[string][]byte) {
			t.Helper()
			if n := len(r.Envelope.Sections); n != 1 {
				t.Fatalf("%d sections after a recipient was dropped, want everything sealed again in one", n)
			}
			for _, id := range held {
				if _, err := crypto.Open(ctx, r, prodDB, []keys.Identity{id}); err == nil {
					t.Fatal("a data key the removed recipient held still opens what was written after its removal")
				}
			}
			got, err := crypto.Open(ctx, r, prodDB, clearIDs)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(got.Values, want, bytes.Equal) {
				t.Fatalf("opens to %q, want %q", got.Values, want)
			}
		}
		changed := maps.Clone(o.Values)
		changed["password"] = []byte("after removal")
		t.Run(obj.name+": reencrypt without it", func(t *testing.T) {
			r, err := o.Rewrap(ctx, rand.Reader, []keys.Recipient{stay})
			if err != nil {
				t.Fatal(err)
			}
			freshlySealed(t, r, o.Values)
			// And edits after that keep the fresh key.
			o2, err := crypto.Open(ctx, r, prodDB, clearIDs)
			if err != nil {
				t.Fatal(err)
			}
			u, err := o2.Update(ctx, rand.Reader, prodDB.Template, changed, []keys.Recipient{stay})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range held {
				if _, err := crypto.Open(ctx, u, prodDB, []keys.Identity{id}); err == nil {
					t.Fatal("a data key the removed recipient held opens an edit made after its removal")
				}
			}
		})
		t.Run(obj.name+": edit to the policy's recipients, which dropped it, values unchanged", func(t *testing.T) {
			u, err := o.Update(ctx, rand.Reader, prodDB.Template, o.Values, []keys.Recipient{stay})
			if err != nil {
				t.Fatal(err)
			}
			freshlySealed(t, u, o.Values)
		})
		t.Run(obj.name+": edit to the policy's recipients, which dropped it, a value changed", func(t *testing.T) {
			u, err := o.Update(ctx, rand.Reader, prodDB.Template, changed, []keys.Recipient{stay})
			if err != nil {
				t.Fatal(err)
			}
			freshlySealed(t, u, changed)
		})
	}
}

// TestSharedScopeBindsTheName: a shared secret opens in any namespace under
// its own name, never under another, and says so to key services.
//
// Guard: Scope.bound for ScopeShared.
func TestSharedScopeBindsTheName(t *testing.T) {
	x := newKey(t, true)
	stripe := crypto.Target{Namespace: "orders", Name: "stripe"}
	s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeShared, stripe, values(), []keys.Recipient{x.rcp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.Open(ctx, s, crypto.Target{Namespace: "payments", Name: "stripe"}, []keys.Identity{x.id}); err != nil {
		t.Fatalf("shared secret does not open in another namespace under its name: %v", err)
	}
	for _, moved := range []crypto.Target{{Namespace: "orders", Name: "db"}, {Namespace: "payments", Name: "stripe-copy"}} {
		if _, err := crypto.Open(ctx, s, moved, []keys.Identity{x.id}); !errors.Is(err, crypto.ErrIntegrity) {
			t.Errorf("copy named %s: got %v, want an integrity failure", moved, err)
		}
	}
	c := clone(s)
	c.Envelope.Scope = crypto.ScopeCluster
	if _, err := crypto.Open(ctx, c, crypto.Target{Namespace: "orders", Name: "other"}, []keys.Identity{x.id}); !errors.Is(err, crypto.ErrIntegrity) {
		t.Errorf("scope widened from shared to cluster: got %v", err)
	}
	b := crypto.ScopeShared.Binding(stripe)
	if b[crypto.BindingName] != "stripe" || b[crypto.BindingScope] != "shared" || b[crypto.BindingNamespace] != "" {
		t.Errorf("binding %v: want the name and the scope, no namespace", b)
	}
	if _, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeShared, crypto.Target{Namespace: "orders"}, values(), []keys.Recipient{x.rcp}); err == nil {
		t.Error("shared scope sealed an object without a name")
	}
}

// twoFaced wraps some other data key than the one it is given: a sealer who
// hands one recipient a working object and another a broken one.
type twoFaced struct{ keys.Recipient }

func (t twoFaced) Wrap(ctx context.Context, _ []byte, b keys.Binding) (*keys.Stanza, error) {
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	return t.Recipient.Wrap(ctx, other, b)
}

// Guard: the data-key comparison in CheckWraps.
func TestCheckWrapsFindsATwoFacedWrap(t *testing.T) {
	x, y := newKey(t, true), newKey(t, true)
	good := seal(t, crypto.ScopeStrict, prodDB, x.rcp, y.rcp)
	bad := seal(t, crypto.ScopeStrict, prodDB, x.rcp, twoFaced{y.rcp})
	both := []keys.Identity{x.id, y.id}
	o, err := crypto.Open(ctx, good, prodDB, both)
	if err != nil {
		t.Fatal(err)
	}
	checked, err := o.CheckWraps(ctx, both)
	if err != nil || len(checked[0]) != 2 {
		t.Fatalf("honest object: checked %v, %v", checked, err)
	}
	o, err = crypto.Open(ctx, bad, prodDB, both) // x's wrap opens it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.CheckWraps(ctx, both); !errors.Is(err, crypto.ErrIntegrity) {
		t.Fatalf("two-faced wrap: got %v, want an integrity failure", err)
	}
	if _, err := o.CheckWraps(ctx, []keys.Identity{x.id}); err != nil {
		t.Fatalf("without y's identity there is nothing more to check: %v", err)
	}
}

// TestValidateRemovals: removal records that no author could have written
// are refused as malformed before any key is used, with a clear message.
// (The commitments would refuse them too; this names the problem.)
func TestValidateRemovals(t *testing.T) {
	s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, prodDB, plain(map[string]string{"a": "1", "b": "2"}), clearRcpt)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"a": "3"}), clearRcpt); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	for _, tc := range []struct {
		name   string
		mutate func(*crypto.Sealed)
		want   string
	}{
		{"names its own section", func(s *crypto.Sealed) { s.Envelope.Sections[1].Removed[0].Section = 1 }, "must name an earlier section"},
		{"names a later section", func(s *crypto.Sealed) {
			s.Envelope.Sections[0].Removed = []crypto.Removal{{Field: "data.b", Section: 1, Digest: d[:]}}
		}, "must name an earlier section"},
		{"short digest", func(s *crypto.Sealed) { s.Envelope.Sections[1].Removed[0].Digest = d[:4] }, "32-byte digest"},
		{"not a data field", func(s *crypto.Sealed) { s.Envelope.Sections[1].Removed[0].Field = "a" }, "want data.KEY"},
		{"removed twice", func(s *crypto.Sealed) {
			s.Envelope.Sections[1].Removed = append(s.Envelope.Sections[1].Removed, s.Envelope.Sections[1].Removed[0])
		}, "removed twice"},
		{"removed but still present", func(s *crypto.Sealed) {
			s.Envelope.Sections[1].Removed = append(s.Envelope.Sections[1].Removed, crypto.Removal{Field: "data.b", Section: 0, Digest: d[:]})
		}, "still present in section 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clone(s)
			tc.mutate(c)
			err := c.Validate()
			if !errors.Is(err, crypto.ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a format error containing %q", err, tc.want)
			}
		})
	}
}

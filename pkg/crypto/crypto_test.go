package crypto_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

var ctx = context.Background()

type keypair struct {
	id  *agekey.Identity
	rcp keys.Recipient
}

func newKey(t testing.TB, x25519 bool) keypair {
	t.Helper()
	id, r := crypto.NewTestKey(t, x25519)
	return keypair{id, r}
}

var prodDB = crypto.Target{Namespace: "prod", Name: "db"}

func values() map[string][]byte {
	return map[string][]byte{"username": []byte("admin"), "password": []byte("hunter2"), "empty": {}}
}

func seal(t testing.TB, scope crypto.Scope, tg crypto.Target, rs ...keys.Recipient) *crypto.Sealed {
	t.Helper()
	s, err := crypto.Seal(ctx, rand.Reader, scope, tg, values(), rs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func clone(s *crypto.Sealed) *crypto.Sealed {
	c := &crypto.Sealed{Envelope: s.Envelope, Values: map[string][]byte{}}
	c.Envelope.Sections = nil
	if h := s.Envelope.SealedFor; h != nil {
		c.Envelope.SealedFor = &crypto.SealedFor{Namespace: h.Namespace, Name: h.Name, Template: bytes.Clone(h.Template)}
	}
	for _, sec := range s.Envelope.Sections {
		ns := crypto.Section{MAC: bytes.Clone(sec.MAC)}
		for _, w := range sec.Recipients {
			ns.Recipients = append(ns.Recipients, crypto.Wrap{Type: w.Type, KeyID: w.KeyID, Data: bytes.Clone(w.Data)})
		}
		for _, r := range sec.Removed {
			ns.Removed = append(ns.Removed, crypto.Removal{Field: r.Field, Section: r.Section, Digest: bytes.Clone(r.Digest)})
		}
		c.Envelope.Sections = append(c.Envelope.Sections, ns)
	}
	for k, v := range s.Values {
		c.Values[k] = bytes.Clone(v)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	x, pq := newKey(t, true), newKey(t, false)
	for _, tc := range []struct {
		name  string
		scope crypto.Scope
	}{{"strict", crypto.ScopeStrict}, {"namespace", crypto.ScopeNamespace}, {"shared", crypto.ScopeShared}, {"cluster", crypto.ScopeCluster}} {
		t.Run(tc.name, func(t *testing.T) {
			s := seal(t, tc.scope, prodDB, x.rcp, pq.rcp)
			for _, id := range []keys.Identity{x.id, pq.id} {
				o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{id})
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range values() {
					if !bytes.Equal(o.Values[k], v) {
						t.Errorf("%s: got %q want %q", k, o.Values[k], v)
					}
				}
			}
		})
	}
}

func TestFreshDataKeyPerObject(t *testing.T) {
	x := newKey(t, true)
	a, b := seal(t, crypto.ScopeStrict, prodDB, x.rcp), seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	if bytes.Equal(a.Values["password"], b.Values["password"]) || bytes.Equal(a.Envelope.Sections[0].MAC, b.Envelope.Sections[0].MAC) {
		t.Fatal("two seals of the same values share ciphertext or commitment")
	}
}

// TestTamper flips, moves, adds, removes and strips, and expects every case
// to fail to open with an error that names what failed and leaks nothing.
func TestTamper(t *testing.T) {
	x, other := newKey(t, true), newKey(t, true)
	ids := []keys.Identity{x.id}
	for _, tc := range []struct {
		name   string
		scope  crypto.Scope
		target crypto.Target
		mutate func(s *crypto.Sealed)
		want   string
	}{
		{"flipped bit in a value", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Values["password"][30] ^= 1 }, "integrity check failed"},
		{"flipped bit in a value's section byte", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Values["password"][0] ^= 1 }, "section 1 does not exist"},
		{"truncated value", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Values["password"] = s.Values["password"][:20] }, "truncated"},
		{"flipped bit in the wrap", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Envelope.Sections[0].Recipients[0].Data[60] ^= 1 }, "does not open"},
		{"flipped bit in another recipient's wrap", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Envelope.Sections[0].Recipients[1].Data[60] ^= 1 }, "integrity check failed"},
		{"flipped bit in the commitment", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Envelope.Sections[0].MAC[0] ^= 1 }, "integrity check failed"},
		{"value moved to another field", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) {
			s.Values["username"], s.Values["password"] = s.Values["password"], s.Values["username"]
		}, "integrity check failed"},
		{"value deleted by hand", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { delete(s.Values, "username") }, "integrity check failed"},
		{"value added by hand", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Values["extra"] = bytes.Clone(s.Values["password"]) }, "integrity check failed"},
		{"recipient stripped", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) {
			s.Envelope.Sections[0].Recipients = s.Envelope.Sections[0].Recipients[:1]
		}, "integrity check failed"},
		{"scope widened to cluster", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Envelope.Scope = crypto.ScopeCluster }, "integrity check failed"},
		{"strict: renamed", crypto.ScopeStrict, crypto.Target{Namespace: "prod", Name: "db2"}, nil, "sealed for prod/db, found as prod/db2"},
		{"strict: moved namespace", crypto.ScopeStrict, crypto.Target{Namespace: "dev", Name: "db"}, nil, "integrity check failed"},
		{"namespace: moved namespace", crypto.ScopeNamespace, crypto.Target{Namespace: "dev", Name: "db"}, nil, "sealed for namespace prod, found as dev/db"},
		{"version 1 is not read", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) { s.Envelope.Version = 1 }, "version 1"},
		{"no matching identity", crypto.ScopeStrict, prodDB, func(s *crypto.Sealed) {
			s.Envelope.Sections[0].Recipients = s.Envelope.Sections[0].Recipients[1:]
		}, "no identity matched any recipient: tried x25519 " + other.rcp.KeyID()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := seal(t, tc.scope, prodDB, x.rcp, other.rcp)
			if tc.mutate != nil {
				tc.mutate(s)
			}
			_, err := crypto.Open(ctx, s, tc.target, ids)
			if err == nil {
				t.Fatal("tampered object opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			for _, secret := range []string{"hunter2", "admin", x.id.SecretString()} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q", secret)
				}
			}
		})
	}
}

func TestScopeAllowsWhatItShould(t *testing.T) {
	x := newKey(t, true)
	ids := []keys.Identity{x.id}
	for _, tc := range []struct {
		name   string
		scope  crypto.Scope
		target crypto.Target
	}{
		{"namespace: renamed", crypto.ScopeNamespace, crypto.Target{Namespace: "prod", Name: "other"}},
		{"cluster: moved and renamed", crypto.ScopeCluster, crypto.Target{Namespace: "dev", Name: "other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := crypto.Open(ctx, seal(t, tc.scope, prodDB, x.rcp), tc.target, ids); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestScopeNeedsNamespace(t *testing.T) {
	x := newKey(t, true)
	_, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, crypto.Target{Name: "db"}, values(), []keys.Recipient{x.rcp})
	if err == nil || !strings.Contains(err.Error(), "needs metadata.namespace") {
		t.Fatalf("got %v", err)
	}
}

func TestUpdateKeepsUnchangedCiphertext(t *testing.T) {
	x := newKey(t, true)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{x.id})
	if err != nil {
		t.Fatal(err)
	}
	nv := values()
	nv["password"] = []byte("correct horse")
	nv["new"] = []byte("v")
	delete(nv, "empty")
	u, err := o.Update(ctx, rand.Reader, prodDB.Template, nv, []keys.Recipient{x.rcp})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(u.Values["username"], s.Values["username"]) {
		t.Error("unchanged value got a new ciphertext")
	}
	if bytes.Equal(u.Values["password"], s.Values["password"]) {
		t.Error("changed value kept its ciphertext")
	}
	o2, err := crypto.Open(ctx, u, prodDB, []keys.Identity{x.id})
	if err != nil {
		t.Fatal(err)
	}
	if string(o2.Values["password"]) != "correct horse" || string(o2.Values["new"]) != "v" || o2.Values["empty"] != nil {
		t.Errorf("got %q", o2.Values)
	}
}

func TestRewrapAddingKeepsValues(t *testing.T) {
	x, y := newKey(t, true), newKey(t, false)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{x.id})
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.Rewrap(ctx, rand.Reader, []keys.Recipient{x.rcp, y.rcp})
	if err != nil {
		t.Fatal(err)
	}
	for k := range s.Values {
		if !bytes.Equal(r.Values[k], s.Values[k]) {
			t.Errorf("%s: ciphertext changed although no recipient was dropped", k)
		}
	}
	for _, id := range []keys.Identity{x.id, y.id} {
		if _, err := crypto.Open(ctx, r, prodDB, []keys.Identity{id}); err != nil {
			t.Error(err)
		}
	}
	t.Run("several sections are sealed again in one", func(t *testing.T) {
		if err := s.Set(ctx, rand.Reader, prodDB, map[string][]byte{"password": []byte("new")}, []keys.Recipient{x.rcp}); err != nil {
			t.Fatal(err)
		}
		o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{x.id})
		if err != nil {
			t.Fatal(err)
		}
		r, err := o.Rewrap(ctx, rand.Reader, []keys.Recipient{x.rcp, y.rcp})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Envelope.Sections) != 1 || bytes.Equal(r.Values["username"], s.Values["username"]) {
			t.Errorf("want every value sealed again in one section, got %d sections", len(r.Envelope.Sections))
		}
		got, err := crypto.Open(ctx, r, prodDB, []keys.Identity{y.id})
		if err != nil {
			t.Fatal(err)
		}
		if !maps.EqualFunc(got.Values, o.Values, bytes.Equal) {
			t.Errorf("got %q, want %q", got.Values, o.Values)
		}
	})
}

func TestRewrapReplacing(t *testing.T) {
	x, y := newKey(t, true), newKey(t, false)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{x.id})
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.Rewrap(ctx, rand.Reader, []keys.Recipient{y.rcp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.Open(ctx, r, prodDB, []keys.Identity{x.id}); err == nil {
		t.Error("old key still opens")
	}
	o2, err := crypto.Open(ctx, r, prodDB, []keys.Identity{y.id})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values() {
		if !bytes.Equal(o2.Values[k], v) {
			t.Errorf("%s: got %q want %q", k, o2.Values[k], v)
		}
	}
}

func TestWriteOnlySetAndUnset(t *testing.T) {
	x := newKey(t, true)
	rs := []keys.Recipient{x.rcp}
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	// Only the recipient, no identity.
	if err := s.Set(ctx, rand.Reader, prodDB, map[string][]byte{"password": []byte("rotated"), "token": []byte("t")}, rs); err != nil {
		t.Fatal(err)
	}
	if err := s.Unset(ctx, rand.Reader, prodDB, []string{"username"}, rs); err != nil {
		t.Fatal(err)
	}
	if err := s.Unset(ctx, rand.Reader, prodDB, []string{"nope"}, rs); err == nil {
		t.Error("unset of a missing value succeeded")
	}
	o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{x.id})
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Values["password"]) != "rotated" || string(o.Values["token"]) != "t" {
		t.Errorf("got %q", o.Values)
	}
	if _, ok := o.Values["username"]; ok {
		t.Error("unset value still there")
	}
	if len(o.Sections) != 3 || len(s.Envelope.Sections[1].Removed) != 1 || len(s.Envelope.Sections[2].Removed) != 1 {
		t.Errorf("want 3 sections, the second removing password and the third username: %+v", s.Envelope.Sections)
	}

	t.Run("tampering a write-only section is still detected", func(t *testing.T) {
		c := clone(s)
		c.Values["token"][40] ^= 1
		if _, err := crypto.Open(ctx, c, prodDB, []keys.Identity{x.id}); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("deleting a value without a removal record is detected", func(t *testing.T) {
		c := clone(s)
		delete(c.Values, "empty")
		if _, err := crypto.Open(ctx, c, prodDB, []keys.Identity{x.id}); !errors.Is(err, crypto.ErrIntegrity) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("edit keeps the sections and adds one for what changed", func(t *testing.T) {
		vals := maps.Clone(o.Values)
		vals["token"] = []byte("edited")
		u, err := o.Update(ctx, rand.Reader, prodDB.Template, vals, rs)
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Envelope.Sections) != 4 || len(u.Envelope.Sections[3].Removed) != 1 {
			t.Fatalf("sections %+v", u.Envelope.Sections)
		}
		if !bytes.Equal(u.Values["empty"], s.Values["empty"]) || !bytes.Equal(u.Values["password"], s.Values["password"]) {
			t.Error("an unchanged value got a new ciphertext")
		}
		if !bytes.Equal(u.Envelope.Sections[0].Recipients[0].Data, s.Envelope.Sections[0].Recipients[0].Data) {
			t.Error("unchanged recipients were wrapped again")
		}
		o2, err := crypto.Open(ctx, u, prodDB, []keys.Identity{x.id})
		if err != nil {
			t.Fatal(err)
		}
		if string(o2.Values["token"]) != "edited" {
			t.Errorf("got %q", o2.Values)
		}
	})
	t.Run("rotate folds everything into one section", func(t *testing.T) {
		r, err := crypto.Seal(ctx, rand.Reader, o.Scope(), o.Target(), o.Values, rs)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Envelope.Sections) != 1 {
			t.Fatalf("sections %+v", r.Envelope.Sections)
		}
	})
}

func TestNoIdentity(t *testing.T) {
	x := newKey(t, true)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	_, err := crypto.Open(ctx, s, prodDB, nil)
	var nm *keys.NoIdentityMatchError
	if !errors.As(err, &nm) {
		t.Fatalf("got %v, want NoIdentityMatchError", err)
	}
}

// staleRecipient is a recipient whose key service calls its wraps stale.
type staleRecipient struct {
	keys.Recipient
	stale bool
}

func (s staleRecipient) Stale(context.Context, *keys.Stanza) (bool, error) { return s.stale, nil }

// TestRewrapRefreshesStaleWraps: reencrypt to the same recipients changes
// nothing, unless a keys.Refresher calls a wrap stale (a rotated key). Then
// an object of one section is wrapped anew with its own data key, values
// untouched; one of several sections is sealed again in one section under
// a fresh data key, like any recommit of several sections (mustFold).
func TestRewrapRefreshesStaleWraps(t *testing.T) {
	x := newKey(t, true)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	two := clone(s)
	if err := two.Set(ctx, rand.Reader, prodDB, map[string][]byte{"password": []byte("new")}, []keys.Recipient{x.rcp}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []*crypto.Sealed{s, two} {
		o, err := crypto.Open(ctx, obj, prodDB, []keys.Identity{x.id})
		if err != nil {
			t.Fatal(err)
		}
		for _, stale := range []bool{false, true} {
			r, err := o.Rewrap(ctx, rand.Reader, []keys.Recipient{staleRecipient{x.rcp, stale}})
			if err != nil {
				t.Fatal(err)
			}
			n := len(obj.Envelope.Sections)
			if _, err := crypto.Open(ctx, r, prodDB, []keys.Identity{x.id}); err != nil {
				t.Errorf("%d sections, stale %v: %v", n, stale, err)
			}
			switch {
			case !stale || n == 1:
				same := bytes.Equal(r.Envelope.Sections[0].Recipients[0].Data, obj.Envelope.Sections[0].Recipients[0].Data)
				if same == stale {
					t.Errorf("%d sections, stale %v: wrap unchanged %v", n, stale, same)
				}
				if !maps.EqualFunc(r.Values, obj.Values, bytes.Equal) {
					t.Errorf("%d sections, stale %v: a value ciphertext changed", n, stale)
				}
			case len(r.Envelope.Sections) != 1 || bytes.Equal(r.Values["username"], obj.Values["username"]):
				t.Errorf("%d sections, stale: want everything sealed again in one section, got %d sections", n, len(r.Envelope.Sections))
			}
		}
	}
}

// AddRecipients gives a new recipient an object of one section without the
// others' public keys; the values and the old wrap stay as they were, and
// stripping the new wrap afterwards fails the commitment. An object of
// several sections is refused: committing its sections anew would let a
// writer drop the later ones (TestNoRollbackAfterRecommit).
//
// Guard: the section count in AddRecipients.
func TestAddRecipients(t *testing.T) {
	a, b := newKey(t, true), newKey(t, true)
	s := seal(t, crypto.ScopeStrict, prodDB, a.rcp)
	o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{a.id})
	if err != nil {
		t.Fatal(err)
	}
	added, err := o.AddRecipients(ctx, []keys.Recipient{b.rcp, a.rcp})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(added.Values, s.Values, bytes.Equal) {
		t.Error("values changed")
	}
	if sec := added.Envelope.Sections[0]; len(sec.Recipients) != 2 || !bytes.Equal(sec.Recipients[0].Data, s.Envelope.Sections[0].Recipients[0].Data) {
		t.Errorf("want the old wrap kept and one added, got %d wraps", len(sec.Recipients))
	}
	got, err := crypto.Open(ctx, added, prodDB, []keys.Identity{b.id})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Values["password"]) != "hunter2" {
		t.Errorf("password = %q", got.Values["password"])
	}
	stripped := clone(added)
	stripped.Envelope.Sections[0].Recipients = stripped.Envelope.Sections[0].Recipients[:1]
	if _, err := crypto.Open(ctx, stripped, prodDB, []keys.Identity{a.id}); !errors.Is(err, crypto.ErrIntegrity) {
		t.Errorf("stripped the added wrap: %v, want an integrity failure", err)
	}

	t.Run("several sections", func(t *testing.T) {
		if err := s.Set(ctx, rand.Reader, prodDB, map[string][]byte{"password": []byte("new")}, []keys.Recipient{a.rcp}); err != nil {
			t.Fatal(err)
		}
		o, err := crypto.Open(ctx, s, prodDB, []keys.Identity{a.id})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := o.AddRecipients(ctx, []keys.Recipient{b.rcp}); err == nil {
			t.Fatalf("a recipient added to %d sections by committing them anew", len(r.Envelope.Sections))
		}
		// A recipient every section has already: nothing to commit anew.
		same, err := o.AddRecipients(ctx, []keys.Recipient{a.rcp})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(same.Envelope, s.Envelope) || !maps.EqualFunc(same.Values, s.Values, bytes.Equal) {
			t.Error("adding a recipient the object has changed it")
		}
	})
}

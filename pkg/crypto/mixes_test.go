package crypto_test

// The property behind the commitment chain: every state that opens is a
// state some author wrote. A writer without a key holds every version of
// the object from git history and may assemble any mix of their pieces;
// whatever of that opens must be one of the versions exactly.

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"kseal.dev/kseal/internal/testkeys"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// onlyKey opens the see-through stanzas of one key ID: a recipient that
// holds its own key and no other.
type onlyKey string

func (k onlyKey) Unwrap(_ context.Context, s *keys.Stanza, _ keys.Binding) ([]byte, error) {
	if s.Type != testkeys.ClearType || s.KeyID != string(k) {
		return nil, keys.ErrIncorrectIdentity
	}
	return s.Body, nil
}

// TestNoRollbackAfterRecommit is the attack of issue 17 (property 3): a key
// holder changes the template or adds a recipient to an object whose
// password was rotated by a later section. A writer without any key then
// drops the later sections and puts the leaked password's ciphertext back
// from git history. The removal digest the dropped section carried still
// matches it, so an earlier section committed again for the new template
// or recipients would verify, and the leaked value would open under the
// new template, or for the new recipient, which never held it.
//
// Guard: an operation that would commit an existing section anew folds
// everything into one section under a fresh data key (mustFold in open.go).
func TestNoRollbackAfterRecommit(t *testing.T) {
	a, b := clearAs("a"), clearAs("b")
	orig := prodDB
	evil := prodDB
	evil.Template = crypto.Template{Annotations: map[string]string{"team": "payments"}}
	v1, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, orig, plain(map[string]string{"password": "leaked", "user": "u"}), []keys.Recipient{a})
	if err != nil {
		t.Fatal(err)
	}
	v2 := clone(v1)
	if err := v2.Set(ctx, rand.Reader, orig, plain(map[string]string{"password": "rotated"}), []keys.Recipient{a}); err != nil {
		t.Fatal(err)
	}
	o, err := crypto.Open(ctx, v2, orig, clearIDs)
	if err != nil {
		t.Fatal(err)
	}
	withToken := maps.Clone(o.Values)
	withToken["token"] = []byte("t")
	for _, tc := range []struct {
		name string
		op   func() (*crypto.Sealed, error)
		tg   crypto.Target // the object's template after the operation
		id   keys.Identity // who opens it afterwards
	}{
		{"edit changes the template", func() (*crypto.Sealed, error) {
			return o.Update(ctx, rand.Reader, evil.Template, o.Values, []keys.Recipient{a})
		}, evil, onlyKey("a")},
		{"edit changes the template and a value", func() (*crypto.Sealed, error) {
			return o.Update(ctx, rand.Reader, evil.Template, withToken, []keys.Recipient{a})
		}, evil, onlyKey("a")},
		{"reencrypt adds a recipient", func() (*crypto.Sealed, error) {
			return o.Rewrap(ctx, rand.Reader, []keys.Recipient{a, b})
		}, orig, onlyKey("b")},
		{"edit under a policy that added a recipient", func() (*crypto.Sealed, error) {
			return o.Update(ctx, rand.Reader, orig.Template, withToken, []keys.Recipient{a, b})
		}, orig, onlyKey("b")},
		{"edit under a policy that added a recipient, values unchanged", func() (*crypto.Sealed, error) {
			return o.Update(ctx, rand.Reader, orig.Template, o.Values, []keys.Recipient{a, b})
		}, orig, onlyKey("b")},
		{"reencrypt refreshes a stale wrap", func() (*crypto.Sealed, error) {
			return o.Rewrap(ctx, rand.Reader, []keys.Recipient{staleRecipient{a, true}})
		}, orig, onlyKey("a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.op()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := crypto.Open(ctx, r, tc.tg, []keys.Identity{tc.id}); err != nil {
				t.Fatalf("test set-up: the result does not open: %v", err)
			}
			// The attacker keeps section 0 and what was sealed in it, and
			// puts the leaked password back.
			c := clone(r)
			c.Envelope.Sections = c.Envelope.Sections[:1]
			maps.DeleteFunc(c.Values, func(_ string, v []byte) bool { return v[0] != 0 })
			c.Values["password"] = v1.Values["password"]
			if o, err := crypto.Open(ctx, c, tc.tg, []keys.Identity{tc.id}); err == nil {
				t.Fatalf("the rotated-away password opened after the later sections were dropped: %v", strs(o.Values))
			}
		})
	}
}

// written is one version of an object as its author wrote it: the object,
// the target (and so the template) it was written for, and its values.
type written struct {
	s    *crypto.Sealed
	tg   crypto.Target
	vals map[string]string
}

func writtenAs(t *testing.T, s *crypto.Sealed, tg crypto.Target) written {
	t.Helper()
	o, err := crypto.Open(ctx, s, tg, clearIDs)
	if err != nil {
		t.Fatalf("a version does not open: %v", err)
	}
	return written{clone(s), tg, strs(o.Values)}
}

// is reports whether an object with the key IDs ids that opened as tg to
// vals is this version: the same values, template and recipients.
func (w written) is(vals map[string]string, tg crypto.Target, ids []string) bool {
	return maps.Equal(w.vals, vals) && sameTarget(w.tg, tg) && slices.Equal(w.s.Envelope.KeyIDs(), ids)
}

// sameTarget compares namespace, name and template (Target's String
// method leaves the template out).
func sameTarget(a, b crypto.Target) bool {
	return a.Namespace == b.Namespace && a.Name == b.Name && fmt.Sprint(a.Template) == fmt.Sprint(b.Template)
}

// checkMixes builds objects from the pieces of the versions in h — any
// prefix of sections, each section (wraps and commitment) taken from any
// version at its index and given the removal list of any version's section
// or none, each value
// from any version or left out — opens each as every target in h, and
// fails the test if one opens to anything but a version in h. Every
// version must open, as itself.
func checkMixes(t *testing.T, h []written) {
	t.Helper()
	var sectionsAt [][]crypto.Section
	var removalLists [][]crypto.Removal
	var targets []crypto.Target
	fieldSet := map[string]bool{}
	for _, v := range h {
		for i, sec := range v.s.Envelope.Sections {
			for len(sectionsAt) <= i {
				sectionsAt = append(sectionsAt, nil)
			}
			sectionsAt[i] = appendUnique(sectionsAt[i], sec)
			removalLists = appendUniqueList(removalLists, sec.Removed)
		}
		if !slices.ContainsFunc(targets, func(tg crypto.Target) bool { return sameTarget(tg, v.tg) }) {
			targets = append(targets, v.tg)
		}
		for k := range v.s.Values {
			fieldSet[k] = true
		}
	}
	removalLists = appendUniqueList(removalLists, nil)
	fields := slices.Sorted(maps.Keys(fieldSet))
	valueChoices := map[string][][]byte{}
	for _, f := range fields {
		choices := [][]byte{nil} // left out
		for _, v := range h {
			if ct, ok := v.s.Values[f]; ok && !slices.ContainsFunc(choices, func(c []byte) bool { return bytes.Equal(c, ct) }) {
				choices = append(choices, ct)
			}
		}
		valueChoices[f] = choices
	}
	isVersion := func(got map[string]string, tg crypto.Target, ids []string) bool {
		return slices.ContainsFunc(h, func(w written) bool { return w.is(got, tg, ids) })
	}

	tried, opened := 0, 0
	seen := make([]bool, len(h))
	var sections func(prefix []crypto.Section)
	sections = func(prefix []crypto.Section) {
		if len(prefix) > 0 {
			// Every assignment of values to this list of sections.
			var assign func(i int, vals map[string][]byte)
			assign = func(i int, vals map[string][]byte) {
				if i == len(fields) {
					s := &crypto.Sealed{Envelope: crypto.Envelope{Version: crypto.FormatVersion, Scope: crypto.ScopeStrict, Sections: prefix}, Values: maps.Clone(vals)}
					if s.Validate() != nil {
						return
					}
					ids := s.Envelope.KeyIDs()
					for _, tg := range targets {
						tried++
						o, err := crypto.Open(ctx, s, tg, clearIDs)
						if err != nil {
							continue
						}
						opened++
						got := strs(o.Values)
						if !isVersion(got, tg, ids) {
							t.Fatalf("a mix of versions opened to %v with template %v and recipients %v, which no version had", got, tg.Template, ids)
						}
						for j, w := range h {
							seen[j] = seen[j] || w.is(got, tg, ids)
						}
					}
					return
				}
				for _, ct := range valueChoices[fields[i]] {
					if ct == nil {
						delete(vals, fields[i])
					} else {
						vals[fields[i]] = ct
					}
					assign(i+1, vals)
				}
				delete(vals, fields[i])
			}
			assign(0, map[string][]byte{})
		}
		i := len(prefix)
		if i == len(sectionsAt) {
			return
		}
		for _, sec := range sectionsAt[i] {
			for _, rl := range removalLists {
				sec := sec
				sec.Removed = rl
				sections(append(slices.Clone(prefix), sec))
			}
		}
	}
	sections(nil)
	for j, ok := range seen {
		if !ok {
			t.Fatalf("version %d (%v) did not open", j, h[j].vals)
		}
	}
	t.Logf("%d mixes tried, %d opened, each to a state a version had", tried, opened)
}

// makeHistory is the life of one object under key-less changes: each
// version adds to the one before with set/unset, a branch forks off after
// the first set, and the last version is an edit with the key.
func makeHistory(t *testing.T) []written {
	t.Helper()
	var h []written
	add := func(s *crypto.Sealed) { h = append(h, writtenAs(t, s, prodDB)) }
	s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, prodDB, plain(map[string]string{"a": "a0", "b": "b0", "c": "c0"}), clearRcpt)
	if err != nil {
		t.Fatal(err)
	}
	add(s)
	steps := []func() error{
		func() error { return s.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"a": "a1"}), clearRcpt) },
		func() error {
			// Another branch forks here and adds a section of its own.
			fork := clone(s)
			if err := fork.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"e": "e-branch"}), clearRcpt); err != nil {
				return err
			}
			add(fork)
			return s.Unset(ctx, rand.Reader, prodDB, []string{"b"}, clearRcpt)
		},
		func() error { return s.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"d": "d3"}), clearRcpt) },
		func() error { return s.Set(ctx, rand.Reader, prodDB, plain(map[string]string{"b": "b4"}), clearRcpt) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
		add(s)
	}
	o, err := crypto.Open(ctx, s, prodDB, clearIDs)
	if err != nil {
		t.Fatal(err)
	}
	vals := maps.Clone(o.Values)
	vals["c"] = []byte("c4")
	u, err := o.Update(ctx, rand.Reader, prodDB.Template, vals, clearRcpt) // a new section for what changed
	if err != nil {
		t.Fatal(err)
	}
	add(u)
	return h
}

// TestNoMixedStates: no mix of the versions of a history of key-less
// changes (and an edit) opens to a state that no version had.
//
// Guards: the chain (previous MAC in mac), the removals in the commitment
// of the section that made them, the removal checks in Validate.
func TestNoMixedStates(t *testing.T) {
	checkMixes(t, makeHistory(t))
}

// TestNoMixedStatesAfterRecommit: the same property across the operations
// that seal earlier sections again with a key — a template change, a
// recipient added (by reencrypt or by an edit), a recipient removed,
// rotate, a stale wrap refreshed — each applied to an object of one section
// and to one of three (a value replaced, one removed), and followed by a
// key-less set that replaces a value. The attacker holds every version.
//
// Guards: mustFold (a recommit of an object of several sections folds it
// into one under a fresh data key; a template change always does),
// dropsRecipient, AddRecipients refusing an object of several sections.
func TestNoMixedStatesAfterRecommit(t *testing.T) {
	A, B, C := clearAs("A"), clearAs("B"), clearAs("C")
	ab := []keys.Recipient{A, B}
	abc := []keys.Recipient{A, B, C}
	t0, t1 := prodDB, prodDB
	t1.Template = crypto.Template{Annotations: map[string]string{"team": "payments"}}
	with := func(o *crypto.Opened, k, v string) map[string][]byte {
		vals := maps.Clone(o.Values)
		vals[k] = []byte(v)
		return vals
	}
	type result struct {
		s     *crypto.Sealed
		tg    crypto.Target
		rcpts []keys.Recipient
	}
	for _, op := range []struct {
		name string
		do   func(o *crypto.Opened) (result, error)
	}{
		{"template changed", func(o *crypto.Opened) (result, error) {
			s, err := o.Update(ctx, rand.Reader, t1.Template, o.Values, ab)
			return result{s, t1, ab}, err
		}},
		{"template and a value changed", func(o *crypto.Opened) (result, error) {
			s, err := o.Update(ctx, rand.Reader, t1.Template, with(o, "c", "c5"), ab)
			return result{s, t1, ab}, err
		}},
		{"recipient added", func(o *crypto.Opened) (result, error) {
			s, err := o.Rewrap(ctx, rand.Reader, abc)
			return result{s, t0, abc}, err
		}},
		{"recipient added by an edit", func(o *crypto.Opened) (result, error) {
			s, err := o.Update(ctx, rand.Reader, t0.Template, with(o, "c", "c5"), abc)
			return result{s, t0, abc}, err
		}},
		{"recipient added by an edit, values unchanged", func(o *crypto.Opened) (result, error) {
			s, err := o.Update(ctx, rand.Reader, t0.Template, o.Values, abc)
			return result{s, t0, abc}, err
		}},
		{"recipient added without the others' public keys", func(o *crypto.Opened) (result, error) {
			s, err := o.AddRecipients(ctx, []keys.Recipient{C})
			return result{s, t0, abc}, err
		}},
		{"recipient removed", func(o *crypto.Opened) (result, error) {
			s, err := o.Rewrap(ctx, rand.Reader, []keys.Recipient{A})
			return result{s, t0, []keys.Recipient{A}}, err
		}},
		{"recipient removed by an edit", func(o *crypto.Opened) (result, error) {
			s, err := o.Update(ctx, rand.Reader, t0.Template, o.Values, []keys.Recipient{A})
			return result{s, t0, []keys.Recipient{A}}, err
		}},
		{"rotated", func(o *crypto.Opened) (result, error) {
			s, err := crypto.Seal(ctx, rand.Reader, o.Scope(), o.Target(), o.Values, ab)
			return result{s, t0, ab}, err
		}},
		{"stale wrap refreshed", func(o *crypto.Opened) (result, error) {
			s, err := o.Rewrap(ctx, rand.Reader, []keys.Recipient{staleRecipient{A, true}, B})
			return result{s, t0, ab}, err
		}},
	} {
		for _, n := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s, %d sections before", op.name, n), func(t *testing.T) {
				var h []written
				s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, t0, plain(map[string]string{"a": "a0", "b": "b0", "c": "c0"}), ab)
				if err != nil {
					t.Fatal(err)
				}
				h = append(h, writtenAs(t, s, t0))
				if n == 3 {
					if err := s.Set(ctx, rand.Reader, t0, plain(map[string]string{"a": "a1"}), ab); err != nil {
						t.Fatal(err)
					}
					h = append(h, writtenAs(t, s, t0))
					if err := s.Unset(ctx, rand.Reader, t0, []string{"b"}, ab); err != nil {
						t.Fatal(err)
					}
					h = append(h, writtenAs(t, s, t0))
				}
				o, err := crypto.Open(ctx, s, t0, clearIDs)
				if err != nil {
					t.Fatal(err)
				}
				r, err := op.do(o)
				if strings.HasPrefix(op.name, "recipient added without") && n > 1 {
					if err == nil {
						t.Fatal("AddRecipients committed several sections anew")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				h = append(h, writtenAs(t, r.s, r.tg))
				after := clone(r.s)
				if err := after.Set(ctx, rand.Reader, r.tg, plain(map[string]string{"a": "a7"}), r.rcpts); err != nil {
					t.Fatal(err)
				}
				h = append(h, writtenAs(t, after, r.tg))
				if err := after.Unset(ctx, rand.Reader, r.tg, []string{"c"}, r.rcpts); err != nil {
					t.Fatal(err)
				}
				h = append(h, writtenAs(t, after, r.tg))
				checkMixes(t, h)
			})
		}
	}
}

func appendUnique(list []crypto.Section, s crypto.Section) []crypto.Section {
	for _, c := range list {
		if bytes.Equal(c.MAC, s.MAC) {
			return list
		}
	}
	return append(list, s)
}

func appendUniqueList(lists [][]crypto.Removal, l []crypto.Removal) [][]crypto.Removal {
	for _, c := range lists {
		if fmt.Sprint(c) == fmt.Sprint(l) {
			return lists
		}
	}
	return append(lists, l)
}

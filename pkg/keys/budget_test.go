package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

// fakeIdentity owns stanzas of its type and answers with err, counting
// the calls it served.
type fakeIdentity struct {
	typ    string
	remote bool
	err    error
	calls  *int
}

func (f fakeIdentity) Unwrap(_ context.Context, s *keys.Stanza, _ keys.Binding) ([]byte, error) {
	if s.Type != f.typ {
		return nil, keys.ErrIncorrectIdentity
	}
	*f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return []byte("dek"), nil
}

func (f fakeIdentity) Remote() bool { return f.remote }

func stanzas(typ string, n int) []*keys.Stanza {
	out := make([]*keys.Stanza, n)
	for i := range out {
		out[i] = &keys.Stanza{Type: typ, KeyID: "k", Body: []byte{byte(i)}}
	}
	return out
}

// TestUnwrapBudget: the identities a budget hands out stop calling the key
// service once a limit is reached, whatever the stanzas.
func TestUnwrapBudget(t *testing.T) {
	denied := &keys.Error{Provider: "test", Kind: keys.KindAccessDenied}
	for _, tc := range []struct {
		name      string
		limits    keys.UnwrapLimits
		remote    bool
		err       error
		objects   int // UnwrapAny runs (sections) of 64 stanzas each
		wantCalls int
		wantMsg   string
	}{
		{"remote failures stop at the remote limit", keys.UnwrapLimits{Remote: 64}, true, denied, 10, 64, "gave up after 64 KMS unwraps"},
		{"remote successes count too", keys.UnwrapLimits{Remote: 64}, true, nil, 100, 64, "gave up after 64 KMS unwraps"},
		{"local successes are not counted", keys.UnwrapLimits{Remote: 64}, false, nil, 100, 100, ""},
		{"local failures are not capped without a failure limit", keys.UnwrapLimits{Remote: 64}, false, denied, 2, 128, ""},
		{"failures of any identity stop at the failure limit", keys.UnwrapLimits{Failures: 4, Remote: 64}, false, denied, 3, 4, "gave up after 4 failed key unwrap attempts or 64 KMS unwraps in all"},
		{"no limit", keys.UnwrapLimits{}, true, denied, 3, 192, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, observed := 0, 0
			b := keys.NewUnwrapBudget(tc.limits, func(error) { observed++ })
			ids := b.Identities([]keys.Identity{fakeIdentity{"other", false, nil, new(int)}, fakeIdentity{"t", tc.remote, tc.err, &calls}})
			var last error
			for range tc.objects {
				_, _, err := keys.UnwrapAny(t.Context(), stanzas("t", 64), nil, ids)
				if err != nil {
					last = err
				}
				if errors.Is(err, keys.ErrUnwrapBudget) {
					break
				}
			}
			if calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
			if observed != calls {
				t.Errorf("observed %d attempts, made %d", observed, calls)
			}
			if tc.wantMsg == "" {
				if errors.Is(last, keys.ErrUnwrapBudget) {
					t.Fatalf("budget spent: %v", last)
				}
				return
			}
			if !errors.Is(last, keys.ErrUnwrapBudget) || !strings.Contains(last.Error(), tc.wantMsg) {
				t.Fatalf("error %v, want the budget's %q", last, tc.wantMsg)
			}
			var nm *keys.NoIdentityMatchError
			if errors.As(last, &nm) {
				t.Errorf("a spent budget reads as a list of stanzas: %v", last)
			}
		})
	}
}

// TestUnwrapBudgetKeepsRemote: a budgeted identity still says whether it
// calls a key service.
func TestUnwrapBudgetKeepsRemote(t *testing.T) {
	ids := keys.NewUnwrapBudget(keys.UnwrapLimits{}, nil).Identities([]keys.Identity{fakeIdentity{remote: true, calls: new(int)}, fakeIdentity{calls: new(int)}})
	if !keys.IsRemote(ids[0]) || keys.IsRemote(ids[1]) {
		t.Fatalf("IsRemote = %v, %v; want true, false", keys.IsRemote(ids[0]), keys.IsRemote(ids[1]))
	}
}

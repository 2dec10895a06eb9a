package keys_test

import (
	"context"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/keys"
)

// TestRegisterRefusesWhatIsTaken: two providers answering for one string
// would make which one parses it depend on link order, so Register
// panics. Guard: checkNew.
func TestRegisterRefusesWhatIsTaken(t *testing.T) {
	parse := func(string) (keys.Recipient, error) { return nil, nil }
	keys.Register(keys.Provider{
		Name: "reg-test", RecipientPrefixes: []string{"regtest1"}, ParseRecipient: parse,
		Renderers:  []keys.RendererInfo{{Target: "reg-test"}},
		KeyAliases: []keys.KeyAlias{{Field: "regTest", Recipient: strings.ToUpper}},
		Source:     func(context.Context) ([]keys.Identity, error) { return nil, nil },
	})
	for _, tc := range []struct {
		name string
		p    keys.Provider
	}{
		{"no name", keys.Provider{}},
		{"the same name", keys.Provider{Name: "reg-test"}},
		{"a recipient prefix taken", keys.Provider{Name: "reg-2", RecipientPrefixes: []string{"regtest1"}, ParseRecipient: parse}},
		{"age's prefix", keys.Provider{Name: "reg-3", RecipientPrefixes: []string{"age1"}, ParseRecipient: parse}},
		{"a render target taken", keys.Provider{Name: "reg-4", Renderers: []keys.RendererInfo{{Target: "reg-test"}}}},
		{"a key alias taken", keys.Provider{Name: "reg-5", KeyAliases: []keys.KeyAlias{{Field: "regTest"}}}},
		{"prefixes without a parser", keys.Provider{Name: "reg-6", RecipientPrefixes: []string{"regtest6"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			keys.Register(tc.p)
		})
	}
	if _, ok := keys.LookupProvider("reg-test"); !ok {
		t.Error("the first registration is gone")
	}
	if a, ok := keys.LookupKeyAlias("regTest"); !ok || a.Recipient("x") != "X" {
		t.Error("the key alias was not registered")
	}
}

package crypto_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
)

// TestParse: the shared parser reads what Seal writes and refuses, as a
// format error naming the input, whatever the API server's strict decoder
// would read differently or refuse.
func TestParse(t *testing.T) {
	x := newKey(t, true)
	s := seal(t, crypto.ScopeStrict, prodDB, x.rcp)
	env, err := json.Marshal(s.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	for k, v := range s.Values {
		vals[k] = base64.StdEncoding.EncodeToString(v)
	}
	got, err := crypto.Parse(env, vals)
	if err != nil {
		t.Fatalf("parsing what Seal wrote: %v", err)
	}
	if _, err := crypto.Open(ctx, got, prodDB, nil); err == nil {
		t.Fatal("opened without identities")
	}
	if _, err := crypto.Open(ctx, got, prodDB, []keys.Identity{x.id}); err != nil {
		t.Fatalf("opening the parsed object: %v", err)
	}

	envWith := func(edit func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(env, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	section0 := func(m map[string]any) map[string]any { return m["sections"].([]any)[0].(map[string]any) }
	for _, c := range []struct {
		name, env string
		values    map[string]string
		key       string // the ParseError's Key; "-" when the error is no ParseError
		want      string
	}{
		{"unknown field", envWith(func(m map[string]any) { m["extra"] = 1 }), vals, "", `unknown field "extra"`},
		{"field given twice", strings.Replace(string(env), `"scope":"strict"`, `"scope":"strict","scope":"cluster"`, 1), vals, "", `duplicate field "scope"`},
		{"field name in another case", strings.Replace(string(env), `"scope"`, `"Scope"`, 1), vals, "", `unknown field "Scope"`},
		{"nested unknown field", envWith(func(m map[string]any) { section0(m)["macs"] = "AA==" }), vals, "", `unknown field "sections[0].macs"`},
		{"trailing data", string(env) + `{}`, vals, "", "after top-level value"},
		{"not JSON", "version: 2", vals, "", "invalid character"},
		{"empty", "", vals, "", "unexpected end of JSON input"},
		{"value not base64", string(env), map[string]string{"password": "%%%"}, "password", "not valid base64"},
		{"value with spaces", string(env), map[string]string{"password": " " + vals["password"]}, "password", "not valid base64"},
		{"too many removals", envWith(func(m map[string]any) {
			rs := make([]any, crypto.MaxValues+1)
			for i := range rs {
				rs[i] = map[string]any{"field": "data.k", "section": 0, "digest": "AA=="}
			}
			section0(m)["removed"] = rs
		}), vals, "-", "4097 removals (at most 4096)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := crypto.Parse([]byte(c.env), c.values)
			if err == nil {
				t.Fatal("parsed")
			}
			if !errors.Is(err, crypto.ErrFormat) {
				t.Errorf("%v does not match ErrFormat", err)
			}
			var pe *crypto.ParseError
			switch {
			case c.key == "-" && errors.As(err, &pe):
				t.Errorf("a ParseError about %q: %v", pe.Key, err)
			case c.key != "-" && !errors.As(err, &pe):
				t.Errorf("no ParseError: %v", err)
			case c.key != "-" && pe.Key != c.key:
				t.Errorf("ParseError about %q, want %q", pe.Key, c.key)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

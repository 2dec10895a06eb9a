package crypto_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"kseal.dev/kseal/pkg/crypto"
)

// keyRule is the Kubernetes rule for Secret data keys as the regular
// expression CheckKey was.
var keyRule = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// TestCheckKeyIsThePattern: CheckKey takes exactly the keys of 1 to 253
// bytes the rule takes: every byte alone, inside and at either end of a
// key, a line break at the end (which some patterns' $ lets through),
// and random keys over a small alphabet.
func TestCheckKeyIsThePattern(t *testing.T) {
	want := func(k string) bool { return len(k) > 0 && len(k) <= 253 && keyRule.MatchString(k) }
	check := func(k string) {
		t.Helper()
		if got := crypto.CheckKey(k) == nil; got != want(k) {
			t.Errorf("CheckKey(%q) valid %v, the rule says %v", k, got, want(k))
		}
	}
	for b := range 256 {
		c := string([]byte{byte(b)})
		check(c)
		check("a" + c + "b")
		check(c + "ab")
		check("ab" + c)
	}
	for _, k := range []string{"", "a\n", "\na", "é", strings.Repeat("a", 253), strings.Repeat("a", 254), ".", "..", "-_."} {
		check(k)
	}
	const alphabet = "aZ09-._ /:\n\x00\xff"
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(8))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(string(b))
	}
}

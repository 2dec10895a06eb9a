package k8sname

import (
	"math/rand/v2"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// same fails t unless IsLabel and IsSubdomain answer for s as
// apimachinery does.
func same(t *testing.T, s string) {
	t.Helper()
	if got, want := IsLabel(s), len(validation.IsDNS1123Label(s)) == 0; got != want {
		t.Fatalf("IsLabel(%q) = %v, apimachinery says %v", s, got, want)
	}
	if got, want := IsSubdomain(s), len(validation.IsDNS1123Subdomain(s)) == 0; got != want {
		t.Fatalf("IsSubdomain(%q) = %v, apimachinery says %v", s, got, want)
	}
}

// TestTheAPIServersRules holds both checks to apimachinery's: every
// string of up to five bytes over an alphabet with every class of byte
// the rules tell apart, lengths about both limits, and random strings.
func TestTheAPIServersRules(t *testing.T) {
	const alphabet = "a0-.Z_\n\xff"
	var all func(prefix string, n int)
	all = func(prefix string, n int) {
		same(t, prefix)
		if n == 0 {
			return
		}
		for i := range len(alphabet) {
			all(prefix+alphabet[i:i+1], n-1)
		}
	}
	all("", 5)

	for _, n := range []int{LabelMax - 1, LabelMax, LabelMax + 1, SubdomainMax - 1, SubdomainMax, SubdomainMax + 1} {
		same(t, strings.Repeat("a", n))
		same(t, strings.Repeat("a.", n/2)+"b")
		same(t, strings.Repeat("a-", n/2)+"b")
	}

	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(70))
		for i := range b {
			b[i] = "abz09-."[r.IntN(7)]
			if r.IntN(50) == 0 {
				b[i] = byte(r.IntN(256))
			}
		}
		same(t, string(b))
	}
}

func FuzzTheAPIServersRules(f *testing.F) {
	for _, s := range []string{"db", "prod.db-1", "-a", "a-", "a..b", "a.-b", "A", ""} {
		f.Add(s)
	}
	f.Fuzz(same)
}

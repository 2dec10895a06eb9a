package manifest

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// plainWordCases are strings plainWord must get right: words YAML 1.1
// reads as booleans or null, names with digits, dots and dashes, and
// what is not a name at all.
var plainWordCases = []string{
	"y", "yes", "n", "no", "on", "off", "true", "false", "null",
	"Y", "Yes", "YES", "On", "OFF", "True", "NULL", "~", "yEs", "FALSE", "False", "Off", "No", "N", "Null",
	"Secret", "SealedSecret", "Opaque", "DB", "S1", "A-B.C", "kseal.dev/v1alpha1", "a/b", "y/", "n//", "a/:b",
	"db", "prod", "s1", "s1000", "a-b", "a.b", "db.example", "app-1.2",
	"e1", "e10", "inf", "nan", "x0", "o", "t", "f", "ok", "yess", "nope",
	"1", "10", "0x10", "0o7", "1e3", "1_000", "1:20", "2001-12-14", ".inf", ".nan",
	"-", "-1", "+1", "a:b", "a: b", "a #b", "#a", "[a]", "{a}", "*a", "&a", "!a", "a,b",
	"", " a", "a ", "é", "a\nb",
}

// TestPlainWordNeverSettlesANonString: whatever plainWord calls a plain
// string, YAML 1.1 reads as a string (yaml.IsValueNonString, the parser
// kyaml asks, says so).
//
// Guard: the yaml11Words check in plainWord (without it "yes" and "on"
// would be written unquoted, and kubectl would read booleans).
func TestPlainWordNeverSettlesANonString(t *testing.T) {
	for _, s := range plainWordCases {
		t.Run(s, func(t *testing.T) {
			if plainWord(s) && yaml.IsValueNonString(s) {
				t.Fatalf("plainWord(%q) is true, but YAML 1.1 reads it as another type", s)
			}
		})
	}
	for _, s := range []string{"db", "s1", "a-b.c", "bench", "Secret", "Opaque", "kseal.dev/v1alpha1", "apps/v1"} {
		if !plainWord(s) {
			t.Errorf("plainWord(%q) is false: names should take the fast path", s)
		}
	}
}

// TestStringNodeIsWhatSetFieldWrites: the node appendString adds renders
// as kyaml's SetField of a string renders, quotes included.
func TestStringNodeIsWhatSetFieldWrites(t *testing.T) {
	for _, s := range plainWordCases {
		t.Run(s, func(t *testing.T) {
			want := yaml.NewMapRNode(nil)
			if err := want.PipeE(yaml.SetField("name", yaml.NewStringRNode(s))); err != nil {
				t.Fatal(err)
			}
			got := yaml.NewMapRNode(nil)
			appendString(got, "name", s)
			if g, w := got.MustString(), want.MustString(); g != w {
				t.Fatalf("appendString writes %q, SetField %q", g, w)
			}
		})
	}
}

func FuzzPlainWord(f *testing.F) {
	for _, s := range plainWordCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return
		}
		if plainWord(s) && yaml.IsValueNonString(s) {
			t.Fatalf("plainWord(%q) is true, but YAML 1.1 reads it as another type", s)
		}
	})
}

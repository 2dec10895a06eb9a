package agekey

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"
)

// recording is an identity that takes whatever stanzas it is given and
// returns a fixed file key: age.DecryptHeader calls it exactly when age's
// parser took the header, so what it records is what age parsed.
type recording struct {
	called  bool
	stanzas []*age.Stanza
}

var testFileKey = bytes.Repeat([]byte{7}, fileKeySize)

func (r *recording) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	r.called = true
	for _, s := range stanzas {
		c := *s
		r.stanzas = append(r.stanzas, &c)
	}
	return testFileKey, nil
}

// withMAC ends the header text h (intro and stanzas) with its MAC line,
// the MAC computed over h and "---" as age computes it.
func withMAC(h string) []byte { return withMACOf(h, testFileKey) }

func withMACOf(h string, fileKey []byte) []byte {
	key, err := hkdf.Key(sha256.New, fileKey, nil, "header", sha256.Size)
	if err != nil {
		panic(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h + "---"))
	return []byte(h + "--- " + ageBase64.EncodeToString(m.Sum(nil)) + "\n")
}

// sameAsAge reads hdr with readHeader and with age's parser (through
// age.DecryptHeader): both take it or both refuse it, with the same
// stanzas; and when both take it, openHeader opens it exactly when
// age.DecryptHeader does.
func sameAsAge(t *testing.T, what string, hdr []byte) (parsed bool) {
	t.Helper()
	rec := &recording{}
	ageKey, ageErr := age.DecryptHeader(hdr, rec)
	stanzas, _, _, err := readHeader(hdr)
	switch {
	case rec.called && err != nil:
		t.Fatalf("%s: age parses %q, readHeader does not: %v", what, hdr, err)
	case !rec.called && err == nil:
		t.Fatalf("%s: readHeader parses %q, age does not (%v)", what, hdr, ageErr)
	case err == nil && !reflect.DeepEqual(stanzas, rec.stanzas):
		t.Fatalf("%s: readHeader reads other stanzas than age in %q", what, hdr)
	}
	key, err := openHeader(hdr, &recording{})
	switch {
	case ageErr == nil && err != nil:
		t.Fatalf("%s: age opens %q, openHeader does not: %v", what, hdr, err)
	case ageErr != nil && err == nil:
		t.Fatalf("%s: openHeader opens %q, age does not: %v", what, hdr, ageErr)
	case err == nil && !bytes.Equal(key, ageKey):
		t.Fatalf("%s: another file key", what)
	}
	return rec.called
}

// TestReadHeaderMatchesAge: readHeader parses the headers age's parser
// parses, into the same stanzas, and refuses the others; openHeader opens
// those whose MAC age accepts. Each case is a header with a right MAC
// over its text (so only the parse decides) and, when age parses it, one
// with a wrong MAC.
func TestReadHeaderMatchesAge(t *testing.T) {
	b64 := ageBase64.EncodeToString
	share := "-> X25519 " + b64(bytes.Repeat([]byte{1}, 32)) + "\n"
	body32 := b64(bytes.Repeat([]byte{2}, 32)) + "\n"
	full := b64(bytes.Repeat([]byte{3}, 48)) + "\n" // one whole line
	args := func(n int) string {
		return "-> t" + strings.Repeat(" a", n) + "\n" + body32
	}
	cases := map[string]string{
		"one stanza":                           share + body32,
		"two stanzas":                          share + body32 + share + body32,
		"a body of one whole line, then ''":    share + full + "\n",
		"a body of two lines":                  share + full + body32,
		"a whole line, no short one":           share + full,
		"an empty body":                        "-> t\n\n",
		"no stanza":                            "",
		"no body line":                         "-> t\n",
		"a line of 49 bytes":                   "-> t\n" + b64(make([]byte, 49)) + "\n",
		"a line of 49 bytes, then a short one": "-> t\n" + b64(make([]byte, 49)) + "\n\n",
		"a body line ending in CR":             "-> t\nAAAA\r\n",
		"a CR in a body line":                  "-> t\nAA\rAA\n",
		"an argument ending in CR":             "-> t a\r\n" + body32,
		"two spaces between arguments":         "-> t  a\n" + body32,
		"a space at the end":                   "-> t a \n" + body32,
		"no space after the arrow":             "->t\n" + body32,
		"an arrow alone":                       "->\n\n",
		"an arrow and a space":                 "-> \n\n",
		"a longer arrow":                       "--> t\n" + body32,
		"an argument of dashes":                "-> t ---\n" + body32,
		"a tab for a space":                    "->\tt\n" + body32,
		"128 arguments":                        args(128),
		"129 arguments":                        args(129),
		"130 arguments":                        args(130),
		"a byte past ASCII in a type":          "-> t\x80\n" + body32,
		"a DEL in an argument":                 "-> t a\x7f\n" + body32,
		"stray bits in base64":                 "-> t\nAB\n",
		"padding in base64":                    "-> t\nAA==\n",
		"a body line of 65 columns":            "-> t\n" + strings.Repeat("A", 65) + "\n",
		"scrypt alone":                         "-> scrypt " + b64(make([]byte, 16)) + " 10\n" + body32,
		"scrypt with another":                  "-> scrypt " + b64(make([]byte, 16)) + " 10\n" + body32 + share + body32,
		"a line starting with --- in a body":   share + full + "---\n",
		"a stanza after a dash line":           share + body32 + "--\n",
	}
	for name, stanzas := range cases {
		hdr := withMAC(ageIntro + stanzas)
		if sameAsAge(t, name, hdr) {
			at := bytes.LastIndex(hdr, []byte("--- ")) + len("--- ")
			bad := append(hdr[:at:at], b64(make([]byte, sha256.Size))+"\n"...)
			sameAsAge(t, name+", a wrong MAC", bad)
		}
	}
	// The closing line and the intro.
	good := string(withMAC(ageIntro + share + body32))
	mac := good[strings.LastIndex(good, "--- ")+4 : len(good)-1]
	head := good[:strings.LastIndex(good, "--- ")]
	for name, hdr := range map[string]string{
		"MAC with padding":           head + "--- " + mac + "=\n",
		"MAC of 31 bytes":            head + "--- " + b64(make([]byte, 31)) + "\n",
		"MAC of 33 bytes":            head + "--- " + b64(make([]byte, 33)) + "\n",
		"no MAC":                     head + "---\n",
		"MAC after two spaces":       head + "---  " + mac + "\n",
		"MAC line ending in CR":      head + "--- " + mac + "\r\n",
		"two MAC arguments":          head + "--- " + mac + " " + mac + "\n",
		"---- for ---":               head + "---- " + mac + "\n",
		"no line break":              head + "--- " + mac,
		"another version":            strings.Replace(good, "v1", "v2", 1),
		"an intro ending in CR":      strings.Replace(good, "v1\n", "v1\r\n", 1),
		"no intro":                   good[len(ageIntro):],
		"an intro glued to a stanza": ageIntro[:len(ageIntro)-1] + "x" + good[len(ageIntro):],
		"the intro alone":            ageIntro,
		"empty":                      "",
		"a truncated stanza":         ageIntro + "-> t\nAAA",
		"two bytes after intro":      ageIntro + "--",
		"a header of 2 MiB":          string(withMAC(ageIntro + "-> t\n" + strings.Repeat(full, (2<<20)/len(full)) + "\n")),
		"a header just under it":     string(withMAC(ageIntro + "-> t\n" + strings.Repeat(full, (2<<20)/len(full)-2) + "\n")),
	} {
		sameAsAge(t, name, []byte(hdr))
	}
	// 2 MiB exactly, and one byte more: the stanza's type takes up the
	// difference.
	lines := "\n" + strings.Repeat(full, (2<<20)/len(full)-2) + "\n"
	base := len(withMAC(ageIntro + "-> t" + lines))
	for _, n := range []int{2 << 20, 2<<20 + 1} {
		hdr := withMAC(ageIntro + "-> " + strings.Repeat("t", 1+n-base) + lines)
		if len(hdr) != n {
			t.Fatalf("built a header of %d bytes, want %d", len(hdr), n)
		}
		if parsed := sameAsAge(t, fmt.Sprint("a header of ", n, " bytes"), hdr); parsed != (n <= 2<<20) {
			t.Fatalf("a header of %d bytes: parsed %v", n, parsed)
		}
	}
	// More than 1024 stanzas.
	for _, n := range []int{1024, 1025} {
		sameAsAge(t, fmt.Sprint(n, " stanzas"), withMAC(ageIntro+strings.Repeat("-> t\n"+body32, n)))
	}
}

// nothing unwraps nothing and says nothing of it.
type nothing struct{}

func (nothing) Unwrap([]*age.Stanza) ([]byte, error) { return nil, nil }

// TestOpenHeaderWithoutAKey: an identity that returns no file key and no
// error has not opened the header, for openHeader as for age, even with
// the MAC an empty file key gives.
func TestOpenHeaderWithoutAKey(t *testing.T) {
	hdr := withMACOf(ageIntro+"-> t\n\n", nil)
	if _, err := age.DecryptHeader(hdr, nothing{}); err == nil {
		t.Fatal("age opens a header without a file key")
	}
	if _, err := openHeader(hdr, nothing{}); err == nil {
		t.Fatal("openHeader opens a header without a file key")
	}
}

// FuzzReadHeader compares readHeader with age's parser on mutated
// headers, and then, where both parse one, gives it its right MAC: age
// must accept it too, so the bytes readHeader checks the MAC over are the
// header age writes again.
func FuzzReadHeader(f *testing.F) {
	b64 := ageBase64.EncodeToString
	f.Add(withMAC(ageIntro + "-> X25519 " + b64(make([]byte, 32)) + "\n" + b64(make([]byte, 32)) + "\n"))
	f.Add(withMAC(ageIntro + "-> a b c\n" + b64(make([]byte, 48)) + "\n\n-> d\n\n"))
	f.Fuzz(func(t *testing.T, hdr []byte) {
		if !sameAsAge(t, "fuzzed header", hdr) {
			return
		}
		_, macd, _, _ := readHeader(hdr)
		sameAsAge(t, "fuzzed header, its MAC right", withMAC(string(macd[:len(macd)-len("---")])))
	})
}

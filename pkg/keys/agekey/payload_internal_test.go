package agekey

import (
	"bytes"
	"io"
	"testing"

	"filippo.io/age"
)

// reference opens body the way age does it, with age.Decrypt: the result
// openWrap must match, byte for byte, success for success.
func reference(body []byte, id age.Identity) ([]byte, bool) {
	r, err := age.Decrypt(bytes.NewReader(body), id)
	if err != nil {
		return nil, false
	}
	dek, err := io.ReadAll(io.LimitReader(r, dekSize+1))
	if err != nil || len(dek) != dekSize {
		return nil, false
	}
	return dek, true
}

// ageFile encrypts plaintext to id's recipient with age itself.
func ageFile(t testing.TB, id *Identity, plaintext []byte) []byte {
	t.Helper()
	r, err := parseRecipient(id.recipient)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r.r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func same(t *testing.T, what string, body []byte, id *Identity) {
	t.Helper()
	want, ok := reference(body, id.id)
	got, err := openWrap(body, id.id)
	switch {
	case ok && err != nil:
		t.Errorf("%s: age opens it, openWrap does not: %v", what, err)
	case !ok && err == nil:
		t.Errorf("%s: openWrap opens what age refuses", what)
	case ok && !bytes.Equal(got, want):
		t.Errorf("%s: openWrap returns other bytes than age", what)
	}
}

// TestOpenWrapMatchesAge: openWrap opens exactly what age.Decrypt opens to
// a 32-byte key, and to the same bytes, for every single-byte change,
// truncation and extension of real wraps of both key types, and for age
// files holding other sizes (more than one chunk among them).
func TestOpenWrapMatchesAge(t *testing.T) {
	for _, x25519 := range []bool{true, false} {
		id, err := Generate(x25519)
		if err != nil {
			t.Fatal(err)
		}
		dek := bytes.Repeat([]byte{0x5a}, dekSize)
		body := ageFile(t, id, dek)
		same(t, id.typ+" wrap", body, id)
		if got, err := openWrap(body, id.id); err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("%s: a real wrap does not open to its key: %v", id.typ, err)
		}
		for i := range body {
			for _, bit := range []byte{0x01, 0x80} {
				m := bytes.Clone(body)
				m[i] ^= bit
				same(t, id.typ+" wrap with a changed byte", m, id)
			}
		}
		for n := range len(body) {
			same(t, id.typ+" wrap truncated", body[:n], id)
		}
		same(t, id.typ+" wrap with a byte appended", append(bytes.Clone(body), 0), id)
		same(t, id.typ+" wrap with a chunk's worth appended", append(bytes.Clone(body), make([]byte, 64<<10)...), id)
		for _, size := range []int{0, 1, dekSize - 1, dekSize + 1, 64 << 10, 64<<10 + dekSize} {
			same(t, id.typ+" age file of another size", ageFile(t, id, make([]byte, size)), id)
		}
		// A stanza before id's with "---" for an argument: the header
		// does not end there (headerEnd looks for a line that starts
		// with it).
		var dashed bytes.Buffer
		r, err := parseRecipient(id.recipient)
		if err != nil {
			t.Fatal(err)
		}
		w, err := age.Encrypt(&dashed, withDashes{r.r})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(dek); err != nil || w.Close() != nil {
			t.Fatal("age.Encrypt failed")
		}
		if !bytes.Contains(dashed.Bytes(), []byte(" ---\n")) {
			t.Fatal("no stanza argument of dashes")
		}
		same(t, id.typ+" wrap with an argument of dashes", dashed.Bytes(), id)
		if got, err := openWrap(dashed.Bytes(), id.id); err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("%s: a wrap with an argument of dashes does not open to its key: %v", id.typ, err)
		}
		other, err := Generate(x25519)
		if err != nil {
			t.Fatal(err)
		}
		same(t, id.typ+" wrap for another key", ageFile(t, other, dek), id)
	}
}

// withDashes wraps as its recipient does, after a stanza of another type
// whose argument is "---".
type withDashes struct{ r age.Recipient }

func (w withDashes) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	s, err := w.r.Wrap(fileKey)
	return append([]*age.Stanza{{Type: "x", Args: []string{"---"}}}, s...), err
}

// FuzzOpenWrap compares openWrap with age.Decrypt on mutated wraps.
func FuzzOpenWrap(f *testing.F) {
	id, err := Generate(true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ageFile(f, id, bytes.Repeat([]byte{1}, dekSize)))
	f.Add(ageFile(f, id, make([]byte, dekSize+1)))
	f.Fuzz(func(t *testing.T, body []byte) {
		same(t, "fuzzed wrap", body, id)
	})
}

// BenchmarkOpenWrap opens a hybrid wrap with openWrap and, for comparison,
// with age.Decrypt.
func BenchmarkOpenWrap(b *testing.B) {
	id, err := Generate(false)
	if err != nil {
		b.Fatal(err)
	}
	body := ageFile(b, id, make([]byte, dekSize))
	b.Run("openWrap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := openWrap(body, id.id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("age.Decrypt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := reference(body, id.id); !ok {
				b.Fatal("does not open")
			}
		}
	})
}

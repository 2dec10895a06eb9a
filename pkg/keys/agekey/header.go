package agekey

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
)

// An age header (age-encryption.org/v1), read here rather than by
// age.DecryptHeader. age's reader goes through a 4 KiB bufio.Reader, copies
// each line, and checks the MAC over the header marshalled again: that
// was most of the 22 KB and 160 allocations an unwrap took besides the
// key exchange itself. readHeader takes what age's parser
// (filippo.io/age/internal/format.Parse) takes and refuses what it
// refuses; openHeader then does what age.DecryptHeader does with it.
// TestOpenWrapMatchesAge and FuzzOpenWrap compare the two with
// age.Decrypt, success for success and byte for byte.
//
// The MAC is checked over the header's own bytes, through "---". age
// checks it over the header written again from what it parsed; the two
// are the same bytes, because age's parser takes only the one way of
// writing each header: lines ended by "\n" alone, arguments split by one
// space, canonical base64 (no padding, no stray bits), body lines of 64
// columns but the last, which is shorter (and empty when the body fills
// its lines).

const (
	ageIntro         = "age-encryption.org/v1\n"
	maxHeaderBytes   = 2 << 20 // as age's parser
	maxStanzas       = 1024    // as age's parser
	maxStanzaArgs    = 128     // as age's splitArgs: one more is let through
	bodyBytesPerLine = 48      // 64 columns of base64
)

var errHeader = errors.New("failed to read header")

// headerLines reads hdr a line at a time; each line keeps its "\n".
type headerLines struct {
	hdr []byte
	pos int
}

func (r *headerLines) line() ([]byte, bool) {
	i := bytes.IndexByte(r.hdr[r.pos:], '\n')
	if i < 0 {
		return nil, false
	}
	l := r.hdr[r.pos : r.pos+i+1]
	r.pos += i + 1
	return l, true
}

// readHeader parses hdr, an age header up to and including the line break
// of its MAC line (see headerEnd). It returns its stanzas, the bytes the
// MAC covers and the MAC.
func readHeader(hdr []byte) (stanzas []*age.Stanza, macd, mac []byte, err error) {
	if len(hdr) > maxHeaderBytes {
		return nil, nil, nil, fmt.Errorf("%w: header exceeds 2 MiB", errHeader)
	}
	if !bytes.HasPrefix(hdr, []byte(ageIntro)) {
		return nil, nil, nil, fmt.Errorf("%w: unexpected intro", errHeader)
	}
	r := &headerLines{hdr: hdr, pos: len(ageIntro)}
	for {
		if bytes.HasPrefix(hdr[r.pos:], []byte("---")) {
			start := r.pos
			l, ok := r.line()
			if !ok {
				return nil, nil, nil, fmt.Errorf("%w: unexpected end", errHeader)
			}
			prefix, args := splitArgs(l)
			if prefix != "---" || len(args) != 1 {
				return nil, nil, nil, fmt.Errorf("%w: malformed closing line", errHeader)
			}
			mac, err = decodeLine(args[0])
			if err != nil || len(mac) != sha256.Size {
				return nil, nil, nil, fmt.Errorf("%w: malformed closing line", errHeader)
			}
			macd = hdr[:start+len("---")]
			break
		}
		if len(stanzas) == maxStanzas {
			return nil, nil, nil, fmt.Errorf("%w: more than %d recipient stanzas", errHeader, maxStanzas)
		}
		s, err := r.stanza()
		if err != nil {
			return nil, nil, nil, err
		}
		stanzas = append(stanzas, s)
	}
	if len(stanzas) == 0 {
		return nil, nil, nil, fmt.Errorf("%w: no recipient stanzas", errHeader)
	}
	return stanzas, macd, mac, nil
}

// stanza reads one stanza: "-> TYPE ARGS...", then body lines of 48 bytes
// ended by a shorter one.
func (r *headerLines) stanza() (*age.Stanza, error) {
	l, ok := r.line()
	if !ok {
		return nil, fmt.Errorf("%w: unexpected end", errHeader)
	}
	prefix, args := splitArgs(l)
	if prefix != "->" || len(args) < 1 {
		return nil, fmt.Errorf("%w: malformed stanza", errHeader)
	}
	s := &age.Stanza{Type: args[0], Args: args[1:]}
	for {
		l, ok := r.line()
		if !ok {
			return nil, fmt.Errorf("%w: unexpected end", errHeader)
		}
		b, err := decodeLine(string(l[:len(l)-1]))
		if err != nil {
			return nil, fmt.Errorf("%w: malformed body line", errHeader)
		}
		if len(b) > bodyBytesPerLine {
			return nil, fmt.Errorf("%w: body line too long", errHeader)
		}
		s.Body = append(s.Body, b...)
		if len(b) < bodyBytesPerLine {
			return s, nil
		}
	}
}

// decodeLine is age's base64 of one line: Go's decoder skips "\r" and
// "\n", age refuses them.
func decodeLine(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("unexpected newline character")
	}
	return ageBase64.DecodeString(s)
}

// splitArgs is age's: the line without its "\n", cut at its first space;
// the rest split at each space into arguments, all of printable ASCII and
// none empty, or there are none.
func splitArgs(line []byte) (string, []string) {
	l := string(bytes.TrimSuffix(line, []byte("\n")))
	prefix, rest, ok := strings.Cut(l, " ")
	if !ok {
		return l, nil
	}
	var args []string
	for {
		arg, more, ok := strings.Cut(rest, " ")
		if !validString(arg) || len(args) > maxStanzaArgs {
			return l, nil
		}
		args = append(args, arg)
		if !ok {
			return prefix, args
		}
		rest = more
	}
}

func validString(s string) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

// openHeader returns the file key of hdr for id, as age.DecryptHeader
// does (age v1.3): the identity unwraps the file key from the stanzas,
// and the header MAC, under HKDF-SHA-256(file key, "header"), must match.
func openHeader(hdr []byte, id age.Identity) ([]byte, error) {
	stanzas, macd, mac, err := readHeader(hdr)
	if err != nil {
		return nil, err
	}
	fileKey, err := id.Unwrap(stanzas)
	if errors.Is(err, age.ErrIncorrectIdentity) || err == nil && fileKey == nil {
		return nil, errors.New("no identity matched any of the recipients")
	}
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, fileKey, nil, "header", sha256.Size)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, key)
	h.Write(macd)
	if !hmac.Equal(h.Sum(nil), mac) {
		return nil, errors.New("bad header MAC")
	}
	return fileKey, nil
}

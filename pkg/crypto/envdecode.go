package crypto

import (
	"encoding/base64"
)

// The API server's strict JSON decoder (sigs.k8s.io/json.UnmarshalStrict)
// reads an envelope by reflection: a tenth of an X25519 decrypt. Almost
// every envelope kseal reads is one it wrote, so decodeEnvelope reads the
// canonical part of the format itself, and Parse asks the strict decoder
// only about the rest. It takes an envelope only when the strict decoder
// would read it to the same value without an error:
//
//   - one JSON object and nothing after it but white space; every field
//     name exactly as the format spells it, at most once;
//   - strings of printable ASCII without escapes (no unescaping, no UTF-8
//     repair to agree on), and base64 fields that are not empty and
//     decode as encoding/json decodes them;
//   - integers of up to nine decimal digits, without sign, fraction,
//     exponent or leading zero;
//   - no null, and no empty object or array (which decode to values a
//     missing field does not).
//
// Anything else, false: the strict decoder reads it, errors included.
// TestDecodeEnvelopeIsStrictJSONs and FuzzDecodeEnvelope compare the two.
func decodeEnvelope(b []byte) (Envelope, bool) {
	d := envDecoder{b: b}
	var e Envelope
	ok := d.object(func(key string) bool {
		switch key {
		case "version":
			return d.int(&e.Version)
		case "scope":
			s, ok := d.str()
			e.Scope = Scope(s)
			return ok
		case "sealedFor":
			e.SealedFor = &SealedFor{}
			return d.sealedFor(e.SealedFor)
		case "sections":
			return d.array(func() bool {
				e.Sections = append(e.Sections, Section{})
				return d.section(&e.Sections[len(e.Sections)-1])
			})
		}
		return false
	})
	d.space()
	return e, ok && d.i == len(d.b)
}

type envDecoder struct {
	b []byte
	i int
}

func (d *envDecoder) sealedFor(f *SealedFor) bool {
	return d.object(func(key string) bool {
		var ok bool
		switch key {
		case "namespace":
			f.Namespace, ok = d.str()
		case "name":
			f.Name, ok = d.str()
		case "template":
			f.Template, ok = d.bytes()
		}
		return ok
	})
}

func (d *envDecoder) section(s *Section) bool {
	return d.object(func(key string) bool {
		switch key {
		case "recipients":
			return d.array(func() bool {
				s.Recipients = append(s.Recipients, Wrap{})
				return d.wrap(&s.Recipients[len(s.Recipients)-1])
			})
		case "removed":
			return d.array(func() bool {
				s.Removed = append(s.Removed, Removal{})
				return d.removal(&s.Removed[len(s.Removed)-1])
			})
		case "mac":
			var ok bool
			s.MAC, ok = d.bytes()
			return ok
		}
		return false
	})
}

func (d *envDecoder) wrap(w *Wrap) bool {
	return d.object(func(key string) bool {
		var ok bool
		switch key {
		case "type":
			w.Type, ok = d.str()
		case "keyID":
			w.KeyID, ok = d.str()
		case "data":
			w.Data, ok = d.bytes()
		}
		return ok
	})
}

func (d *envDecoder) removal(r *Removal) bool {
	return d.object(func(key string) bool {
		var ok bool
		switch key {
		case "field":
			r.Field, ok = d.str()
		case "section":
			ok = d.int(&r.Section)
		case "digest":
			r.Digest, ok = d.bytes()
		}
		return ok
	})
}

// object reads a non-empty object, calling field for the value of each
// field; a name given twice is refused, and field refuses a name it does
// not know.
func (d *envDecoder) object(field func(key string) bool) bool {
	if !d.next('{') {
		return false
	}
	var seen []string
	for {
		d.space()
		key, ok := d.str()
		if !ok {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if !d.next(':') || !field(key) {
			return false
		}
		switch d.space(); {
		case d.next(','):
		case d.next('}'):
			return true
		default:
			return false
		}
	}
}

// array reads a non-empty array, calling item for each element.
func (d *envDecoder) array(item func() bool) bool {
	if !d.next('[') {
		return false
	}
	for {
		if !item() {
			return false
		}
		switch d.space(); {
		case d.next(','):
		case d.next(']'):
			return true
		default:
			return false
		}
	}
}

// str reads a string of printable ASCII without escapes.
func (d *envDecoder) str() (string, bool) {
	b, ok := d.strBytes()
	return string(b), ok
}

// strBytes is str's bytes, in the envelope's own: not a copy.
func (d *envDecoder) strBytes() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return nil, false
		}
	}
	return nil, false
}

// bytes reads a non-empty base64 string, decoded as encoding/json decodes
// a []byte (into a buffer of DecodedLen, through StdEncoding.Decode),
// from the envelope's own bytes: not through a copy of them as a string.
func (d *envDecoder) bytes() ([]byte, bool) {
	s, ok := d.strBytes()
	if !ok || len(s) == 0 {
		return nil, false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	return b[:n], err == nil
}

// int reads a decimal of one to nine digits, without a leading zero.
func (d *envDecoder) int(v *int) bool {
	d.space()
	start := d.i
	n := 0
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		n = n*10 + int(d.b[d.i]-'0')
		d.i++
	}
	digits := d.i - start
	if digits == 0 || digits > 9 || (digits > 1 && d.b[start] == '0') {
		return false
	}
	*v = n // a fraction or an exponent after it: the object or array refuses what follows
	return true
}

// next skips white space and takes c.
func (d *envDecoder) next(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *envDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

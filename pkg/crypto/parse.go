package crypto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"

	"sigs.k8s.io/json"
)

// ParseError is a format error in one input of Parse: the envelope's JSON
// (Key is empty) or the value of Secret data key Key. It matches ErrFormat.
type ParseError struct {
	Key string
	Err error
}

func (e *ParseError) Error() string { return e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// Is makes every ParseError match ErrFormat.
func (e *ParseError) Is(target error) bool { return target == ErrFormat }

// Parse is the one parser of sealed objects: pkg/manifest reads files
// through it (a SealedSecret's spec, an encrypted Secret's annotation), the
// controller reads SealedSecrets through it, and FuzzParse fuzzes it, so no
// reader accepts what another refuses.
//
// env is the envelope as JSON, decoded the way the API server decodes
// objects, strictly: field names match exactly, no field is unknown or
// given twice, nothing follows the object. values are the value
// ciphertexts, standard base64, by Secret data key. The result has passed
// Validate; nothing is decrypted. Every error matches ErrFormat, and one
// about a single input is a *ParseError naming it.
func Parse(env []byte, values map[string]string) (*Sealed, error) {
	s := &Sealed{Values: make(map[string][]byte, len(values))}
	var strict []error
	var err error
	if e, ok := decodeEnvelope(env); ok {
		s.Envelope = e // what the strict decoder reads it as (envdecode.go)
	} else {
		strict, err = json.UnmarshalStrict(env, &s.Envelope)
	}
	if err == nil && len(strict) > 0 {
		err = strict[0] // unknown or repeated field
	}
	if err != nil {
		if strings.Contains(err.Error(), "unexpected end of JSON input") || len(bytes.TrimSpace(env)) == 0 {
			// What an annotation cut short (a file that lost its end)
			// looks like.
			return nil, &ParseError{Err: formatErr("%s: %v", truncated, err)}
		}
		return nil, &ParseError{Err: formatErr("%v", err)}
	}
	for k, v := range values {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, &ParseError{Key: k, Err: errors.New("not valid base64")}
		}
		s.Values[k] = b
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

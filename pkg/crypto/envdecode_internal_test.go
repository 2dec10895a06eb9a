package crypto

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	sigsjson "sigs.k8s.io/json"
)

// strictDecode is how Parse read every envelope before decodeEnvelope.
func strictDecode(b []byte) (Envelope, error) {
	var e Envelope
	strict, err := sigsjson.UnmarshalStrict(b, &e)
	if err == nil && len(strict) > 0 {
		err = strict[0]
	}
	return e, err
}

// sameAsStrict fails if decodeEnvelope takes b and the strict decoder
// refuses it or reads another value. It reports whether decodeEnvelope
// took it.
func sameAsStrict(t *testing.T, name string, b []byte) bool {
	t.Helper()
	got, ok := decodeEnvelope(b)
	if !ok {
		return false
	}
	want, err := strictDecode(b)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decodeEnvelope took %q as %+v; the strict decoder reads %+v (%v)", name, b, got, want, err)
	}
	return true
}

const canonicalEnvelope = `{"version":2,"scope":"strict","sealedFor":{"namespace":"bench","name":"s1","template":"svXuhgcEia2aPwEVSGUNvRhpD1RVJaDwT54wNMjWVfk="},` +
	`"sections":[{"recipients":[{"type":"x25519","keyID":"1e247021357f219c","data":"YWdlLWVuY3J5cHRpb24="},{"type":"a","keyID":"b","data":"Yw=="}],"mac":"Sq7TCDdyIt0aV2ckxjNt9t4XsRGiS4C91FaZQ4h39oA="},` +
	`{"recipients":[{"type":"x25519","keyID":"k","data":"ZA=="}],"removed":[{"field":"a","section":0,"digest":"ZGlnZXN0"}],"mac":"bWFj"}]}`

// TestDecodeEnvelopeIsStrictJSONs: decodeEnvelope reads what kseal writes,
// as the strict decoder does, and leaves to the strict decoder every input
// it would read otherwise or refuse: each case breaks one of its rules.
func TestDecodeEnvelopeIsStrictJSONs(t *testing.T) {
	takes := map[string]string{
		"canonical":    canonicalEnvelope,
		"indented":     " {\n\t\"version\" : 2 ,\r\n \"scope\": \"\", \"sections\": [ {\"recipients\": [{\"type\": \"t\", \"keyID\": \"\", \"data\": \"YQ==\"}], \"mac\": \"YQ==\"} ] }\n ",
		"any order":    `{"sections":[{"mac":"YQ==","recipients":[{"data":"YQ==","keyID":"k","type":"t"}]}],"scope":"namespace","version":1}`,
		"no sealedFor": `{"version":2,"scope":"strict","sections":[{"recipients":[{"type":"t","keyID":"k","data":"YQ=="}],"mac":"YQ=="}]}`,
		"big version":  `{"version":999999999}`,
		"zero":         `{"version":0}`,
	}
	for name, text := range takes {
		if !sameAsStrict(t, name, []byte(text)) {
			t.Errorf("%s: decodeEnvelope did not take it", name)
		}
	}
	refuses := map[string]string{
		"unknown field":        `{"version":2,"extra":1}`,
		"field in other case":  `{"Version":2}`,
		"repeated field":       `{"version":2,"version":3}`,
		"repeated inner field": `{"sections":[{"mac":"YQ==","mac":"Yg=="}]}`,
		"trailing data":        `{"version":2}x`,
		"second object":        `{"version":2}{"version":3}`,
		"truncated":            `{"version":2,"scope":"str`,
		"escape":               `{"scope":"str\u0069ct"}`,
		"escaped quote":        `{"scope":"a\"b"}`,
		"non-ASCII":            `{"scope":"é"}`,
		"control byte":         "{\"scope\":\"a\tb\"}",
		"invalid UTF-8":        "{\"scope\":\"a\xffb\"}",
		"null":                 `{"sealedFor":null}`,
		"null bytes":           `{"sections":[{"mac":null}]}`,
		"empty bytes":          `{"sections":[{"mac":""}]}`,
		"bad base64":           `{"sections":[{"mac":"YQ="}]}`,
		"empty object":         `{"sealedFor":{}}`,
		"empty array":          `{"sections":[]}`,
		"empty envelope":       `{}`,
		"fraction":             `{"version":2.0}`,
		"exponent":             `{"version":2e0}`,
		"negative":             `{"version":-2}`,
		"leading zero":         `{"version":02}`,
		"ten digits":           `{"version":1234567890}`,
		"string number":        `{"version":"2"}`,
		"number string":        `{"scope":2}`,
		"array for object":     `{"sealedFor":[]}`,
		"top-level array":      `[]`,
		"top-level null":       `null`,
		"trailing comma":       `{"version":2,}`,
		"missing colon":        `{"version" 2}`,
		"empty":                ``,
	}
	for name, text := range refuses {
		if sameAsStrict(t, name, []byte(text)) {
			t.Errorf("%s: decodeEnvelope took it", name)
		}
	}

	// Whatever kseal writes, it reads itself.
	var e Envelope
	if err := json.Unmarshal([]byte(canonicalEnvelope), &e); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !sameAsStrict(t, "json.Marshal's", out) {
		t.Error("decodeEnvelope did not take encoding/json's encoding of an envelope")
	}
}

// FuzzDecodeEnvelope: whatever decodeEnvelope takes, the strict decoder
// reads to the same value without an error.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(canonicalEnvelope)
	f.Add(`{"version":2,"scope":"strict","sections":[{"recipients":[{"type":"t","keyID":"k","data":"YQ=="}],"mac":"YQ=="}]}`)
	f.Add(`{"sections":[{"removed":[{"field":"a","section":0,"digest":"YQ=="}],"mac":"YQ=="}]}`)
	f.Add(`{"version":2,"version":3}`)
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 8192 || strings.Count(text, "{") > 200 {
			return
		}
		sameAsStrict(t, "fuzz", []byte(text))
	})
}

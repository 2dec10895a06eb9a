package crypto

import (
	"maps"
	"slices"
)

// Template is what a sealed object says about the Secret it stands for,
// besides its values: the type, the immutable flag, the labels and the
// annotations. For a SealedSecret it is spec.template; for an encrypted
// Secret it is the Secret's own type, immutable flag, labels and
// annotations, less kseal's bookkeeping annotation (the envelope itself).
//
// Every section's commitment covers the template, so a change made without
// a key (a replication annotation, a token type, immutable: true) fails to
// open. Changing it takes a key (kseal edit) or a fresh seal of every value.
type Template struct {
	Type        string
	Immutable   bool
	Labels      map[string]string
	Annotations map[string]string
}

// defaultSecretType is what the API server makes of an empty type, so the
// two spellings of an Opaque Secret commit to the same template.
const defaultSecretType = "Opaque"

// digest is SHA-256 of the template's canonical encoding: the type (empty
// read as Opaque), the immutable flag as 0 or 1, then the labels and the
// annotations, each as a count followed by (key, value) pairs sorted by key.
// A nil map and an empty one encode the same.
func (t Template) digest() []byte {
	typ := t.Type
	if typ == "" {
		typ = defaultSecretType
	}
	imm := 0
	if t.Immutable {
		imm = 1
	}
	c := canon(nil).str(labelTemplate).str(typ).u32(imm)
	c = c.strMap(t.Labels).strMap(t.Annotations)
	return digest(c)
}

func (c canon) strMap(m map[string]string) canon {
	c = c.u32(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		c = c.str(k).str(m[k])
	}
	return c
}

// Package crypto implements kseal's envelope: the format in which the values
// of one Secret are sealed. docs/format.md is the normative description and
// testdata/vectors holds vectors that pin it; this comment is the summary.
//
// # Data keys and sections
//
// Sealing an object draws one fresh 256-bit data key (DEK) from the supplied
// randomness. The DEK never encrypts anything directly; two keys are derived
// from it with HKDF-SHA256 (no salt):
//
//	valueKey = HKDF(DEK, info "kseal.dev/v2 value key", 32 bytes)
//	macKey   = HKDF(DEK, info "kseal.dev/v2 commitment key", 32 bytes)
//
// A DEK, the wraps of it (one per recipient, each with a key ID), the
// removals its author made and the commitment over all of it form a
// section. A freshly sealed object has exactly one section. `kseal set` and
// `kseal unset`, which need no private key, append a section with a DEK of
// its own, and so does `kseal edit` for what it changed: new plaintext never
// goes under an existing data key, which whoever sealed it may know.
// `kseal rotate` folds everything back into one.
//
// A section is committed anew (its commitment recomputed for other wraps)
// only in an object of one section that stays one: adding a recipient to it
// or refreshing a stale wrap keeps its data key and ciphertexts. Any other
// operation that would commit an existing section anew — a template change,
// a recipient added to an object of several sections, a recipient dropped —
// seals every value again in one section under a fresh data key instead
// (it folds). Otherwise anyone could drop the sections after a recommitted
// one and bring back, under the new template or for the new recipient, a
// value a dropped section had replaced.
//
// # Values
//
// Each value is sealed with XChaCha20-Poly1305 under valueKey:
//
//	value = section (1 byte) || nonce (24 bytes) || ciphertext || tag (16 bytes)
//
// The additional data binds it to the format version, the scope, the
// namespace and name as the scope requires, and the field ("data.KEY"), each
// as a length-prefixed string (4-byte big-endian length, then the bytes):
//
//	AD = lp("kseal.dev/v2 value") || lp(scope) || lp(namespace) || lp(name) || lp(field)
//
// Under scope "namespace" the name is empty, under "shared" the namespace,
// under "cluster" both.
//
// # Commitment
//
// Each section carries MAC = HMAC-SHA256(macKey, C) where C is the canonical
// encoding of the scope, the bound namespace and name, the digest of the
// template (type, immutable, labels, annotations of the Secret the object
// stands for), the section index, the previous section's MAC, the section's
// wraps (type, key ID, SHA-256 of the wrap) sorted, the (field, SHA-256 of
// value) pairs its author sealed sorted by field (values later removed
// count through the digest their removal records), and the removals its
// author made. Nothing in C depends on YAML formatting or map order.
//
// Because the commitment is keyed from the DEK it also commits the
// ciphertexts to that key: a value cannot be made to open under another one.
// Because each section commits to the previous one, removals to the
// section that made them, and no section of a longer chain is ever
// committed anew, every state that opens is one some author wrote: nobody
// without a key can bring back a removed value while keeping later changes,
// drop or reorder sections, or change the template, also after a key
// holder changed the template or the recipients.
package crypto

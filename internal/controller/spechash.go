package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// Every hash of a SealedSecret's spec, in one place. The spec is public, so
// none of them says anything about the plaintext. specDigest (the whole
// spec) is what the cache keeps of a stripped object; sealedHash, its first
// half, is the sealed-hash annotation on the Secret; namesDigest hashes the
// value names, of the spec and of what the controller's writes own in a
// Secret.

// annotationCachedSpec holds, in a stripped copy (see stripSealedSecret),
// specDigest of the spec it was stripped of. It exists only in the cache.
// Its key is not a valid annotation key (the colon), so the API server
// refuses it on every object: nobody can hand the controller a hash it did
// not compute, and an object carrying it is one the transform already
// stripped (transforms may run again on an object when an informer
// relists). It is never written back: only the status is patched, from
// status-only copies.
const annotationCachedSpec = "kseal.dev/cached:spec-sha256"

// annotationCachedNames holds, in a stripped copy, the namesDigest of its
// value names (the keys of spec.encryptedData, which the stripping drops):
// the data keys its Secret must have.
const annotationCachedNames = "kseal.dev/cached:names-sha256"

// stripped says whether ss is a cached copy without its ciphertext.
func stripped(ss *ksealv1.SealedSecret) bool {
	_, ok := ss.Annotations[annotationCachedSpec]
	return ok
}

// sealedHash is the value of ksealv1.AnnotationSealedHash for ss: a hash of
// its spec (ciphertext and template), the first half of specDigest. The
// spec is public, so the hash says nothing about the plaintext; it changes
// whenever the Secret it describes may change.
func sealedHash(ss *ksealv1.SealedSecret) string {
	return shortHash(specDigest(ss))
}

// specDigest is the full SHA-256 of ss's spec: "sha256:" and 64 hex digits,
// "" if the spec does not encode (then it never matches: the slow path
// decrypts and compares).
func specDigest(ss *ksealv1.SealedSecret) string {
	b, err := json.Marshal(ss.Spec)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// shortHash is the sealed-hash form of a spec digest: its first 128 bits.
func shortHash(digest string) string {
	if len(digest) != len("sha256:")+64 {
		return ""
	}
	return digest[:len("sha256:")+32]
}

// specNamesDigest is the namesDigest of ss's value names, also for a
// stripped copy.
func specNamesDigest(ss *ksealv1.SealedSecret) string {
	if stripped(ss) {
		return ss.Annotations[annotationCachedNames]
	}
	return namesDigest(slices.Collect(maps.Keys(ss.Spec.EncryptedData)))
}

// specHash is sealedHash of ss's full spec, also for a stripped copy.
func specHash(ss *ksealv1.SealedSecret) string {
	if h, ok := ss.Annotations[annotationCachedSpec]; ok {
		return shortHash(h)
	}
	return sealedHash(ss)
}

// namesDigest hashes a set of value names in one canonical form (sorted).
func namesDigest(names []string) string {
	names = slices.Sorted(slices.Values(names))
	b, _ := json.Marshal(names)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

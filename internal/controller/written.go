package controller

import (
	"fmt"
	"hash/fnv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// writtenSecrets remembers, per SealedSecret, the version of its Secret the
// controller last wrote or read in full and found right. The cache holds
// Secrets as metadata only; while a Secret's resourceVersion is the one
// remembered here and its hash annotation matches the spec, its data is
// known to be right without reading or decrypting anything. Any other
// version (an edit by hand, a restart that emptied this memory) is read in
// full and compared.
type writtenSecrets struct {
	mu sync.Mutex
	m  map[types.NamespacedName]written
}

type written struct {
	uid    types.UID
	rv     string
	keyIDs []string // the keys that opened each section
	// creating is the UID of the SealedSecret whose reconcile is creating
	// the Secret right now (uid and rv are not known yet).
	creating types.UID
}

// creating notes that the Secret key is being created for the
// SealedSecret owner: the watch event of that create may come in before
// the create call returns.
func (w *writtenSecrets) creating(key types.NamespacedName, owner types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[types.NamespacedName]written{}
	}
	w.m[key] = written{creating: owner}
}

// own says whether o is a version of a Secret this controller wrote: the
// one remembered, or the one being created for its controlling
// SealedSecret.
func (w *writtenSecrets) own(o client.Object) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.m[client.ObjectKeyFromObject(o)]
	switch {
	case !ok:
		return false
	case v.creating != "":
		ref := metav1.GetControllerOfNoCopy(o)
		return ref != nil && ref.UID == v.creating
	}
	return v.uid == o.GetUID() && v.rv == o.GetResourceVersion()
}

func (w *writtenSecrets) set(o client.Object, keyIDs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[types.NamespacedName]written{}
	}
	w.m[client.ObjectKeyFromObject(o)] = written{uid: o.GetUID(), rv: o.GetResourceVersion(), keyIDs: keyIDs}
}

// get returns the key IDs recorded for o when o is the version the
// controller wrote or verified last.
func (w *writtenSecrets) get(o client.Object) ([]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.m[client.ObjectKeyFromObject(o)]
	if !ok || v.creating != "" || v.uid != o.GetUID() || v.rv != o.GetResourceVersion() {
		return nil, false
	}
	return v.keyIDs, true
}

// known says whether the controller remembers writing or verifying some
// version of the Secret key (or is creating it).
func (w *writtenSecrets) known(key types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.m[key]
	return ok
}

func (w *writtenSecrets) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, key)
}

// writtenStatus remembers (as a fingerprint) the status the controller last
// wrote for each SealedSecret. A reconcile that runs before the cache holds
// that write (another event for the same object came in meanwhile)
// computes the same status from the stale copy; it must not write it a
// second time.
type writtenStatus struct {
	mu sync.Mutex
	m  map[types.NamespacedName]statusMemo
}

type statusMemo struct {
	uid types.UID
	sum uint64
}

// statusSum fingerprints what equalStatus compares.
func statusSum(st *ksealv1.SealedSecretStatus) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%q\x00", st.ObservedGeneration, st.KeyIDs)
	for _, c := range st.Conditions {
		fmt.Fprintf(h, "%q\x00%q\x00%q\x00%q\x00%d\x00", c.Type, c.Status, c.Reason, c.Message, c.ObservedGeneration)
	}
	return h.Sum64()
}

func (w *writtenStatus) set(ss *ksealv1.SealedSecret) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[types.NamespacedName]statusMemo{}
	}
	w.m[client.ObjectKeyFromObject(ss)] = statusMemo{uid: ss.UID, sum: statusSum(&ss.Status)}
}

// same says whether ss's status is the one last written for this object.
func (w *writtenStatus) same(ss *ksealv1.SealedSecret) bool {
	w.mu.Lock()
	v, ok := w.m[client.ObjectKeyFromObject(ss)]
	w.mu.Unlock()
	return ok && v.uid == ss.UID && v.sum == statusSum(&ss.Status)
}

func (w *writtenStatus) forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, key)
}

package manifest

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// kubectlSecrets counts the Secrets and SealedSecrets that kubectl would
// apply from the document text, read the way kubectl reads it: YAML (1.1,
// aliases resolved, the last of a repeated key) to JSON, then apimachinery's
// unstructured decoder, which makes any object with items a list and gives
// items without apiVersion and kind the list's. A document kubectl cannot
// decode counts nothing: kubectl would refuse it too.
func kubectlSecrets(raw string) (n int) {
	defer func() {
		if recover() != nil { // third-party decoders fed untrusted input
			n = 0
		}
	}()
	j, err := utilyaml.ToJSON([]byte(raw))
	if err != nil || len(j) == 0 || string(j) == "null" {
		return 0
	}
	obj, _, err := unstructured.UnstructuredJSONScheme.Decode(j, nil, nil)
	if err != nil {
		return 0
	}
	var objs []runtime.Object
	switch o := obj.(type) {
	case *unstructured.UnstructuredList:
		for i := range o.Items {
			objs = append(objs, &o.Items[i])
		}
	default:
		objs = []runtime.Object{obj}
	}
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		gvk := u.GroupVersionKind()
		if (gvk.Group == "" && gvk.Version == "v1" && gvk.Kind == "Secret") || (gvk.GroupVersion().String() == SealedAPIVersion && gvk.Kind == SealedKind) {
			n++
		}
	}
	return n
}

// ksealSecrets counts what kseal reads from the same document.
func (d *Doc) ksealSecrets() int {
	n := 0
	if d.Kind != KindOther {
		n++
	}
	for _, it := range d.items {
		if it.Kind != KindOther {
			n++
		}
	}
	return n
}

// checkKubectlView is the backstop behind every rule that makes kseal read
// a document as kubectl does: if kubectl would apply more Secrets from it
// than kseal sees, some spelling (an alias, a repeated key, a YAML 1.1
// form) hides one, and the document is refused rather than passed over.
func (d *Doc) checkKubectlView() error {
	if k, s := kubectlSecrets(d.raw), d.ksealSecrets(); k > s {
		return d.errorf("", "kubectl reads %d Secret(s) in this document where kseal reads %d: it is written in a way the two read differently (aliases, repeated keys, tags); write it plainly", k, s)
	}
	return nil
}

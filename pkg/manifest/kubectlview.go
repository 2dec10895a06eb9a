package manifest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// kubectlSecrets returns the Secrets and SealedSecrets that kubectl would
// apply from the document text, read the way kubectl reads it: YAML (1.1,
// aliases resolved, tags decoded, the last of a repeated key) to JSON, then
// apimachinery's unstructured decoder, which makes any object with items a
// list and gives items without apiVersion and kind the list's. A document
// kubectl cannot decode yields nothing: kubectl would refuse it too.
func kubectlSecrets(raw string) (objs []*unstructured.Unstructured) {
	defer func() {
		if recover() != nil { // third-party decoders fed untrusted input
			objs = nil
		}
	}()
	j, err := utilyaml.ToJSON([]byte(raw))
	if err != nil || len(j) == 0 || string(j) == "null" {
		return nil
	}
	obj, _, err := unstructured.UnstructuredJSONScheme.Decode(j, nil, nil)
	if err != nil {
		return nil
	}
	var all []*unstructured.Unstructured
	switch o := obj.(type) {
	case *unstructured.UnstructuredList:
		for i := range o.Items {
			all = append(all, &o.Items[i])
		}
	case *unstructured.Unstructured:
		all = []*unstructured.Unstructured{o}
	}
	for _, u := range all {
		if kubectlKind(u) != KindOther {
			objs = append(objs, u)
		}
	}
	return objs
}

// kubectlKind is kindOf for an object as kubectl read it (a plain and an
// encrypted Secret are both KindSecret).
func kubectlKind(u *unstructured.Unstructured) Kind {
	gvk := u.GroupVersionKind()
	switch {
	case gvk.Group == "" && gvk.Version == "v1" && gvk.Kind == "Secret":
		return KindSecret
	case gvk.GroupVersion().String() == SealedAPIVersion && gvk.Kind == SealedKind:
		return KindSealedSecret
	}
	return KindOther
}

// ksealSecrets lists what kseal reads from the same document, in order.
func (d *Doc) ksealSecrets() []*Doc {
	var out []*Doc
	if d.Kind != KindOther {
		out = append(out, d)
	}
	for _, it := range d.itemDocs() {
		if it.Kind != KindOther {
			out = append(out, it)
		}
	}
	return out
}

// checkKubectlView is the backstop behind every rule that makes kseal read
// a document as kubectl does. If kubectl would apply more Secrets from it
// than kseal sees, some spelling (an alias, a repeated key, a YAML 1.1
// form) hides one. If it applies as many, each must have the kind, name,
// namespace, template and values kseal read: a tag or a YAML 1.1 form
// (`yes`, an unquoted date) must not make `kseal decrypt | kubectl apply`
// apply another type or label than kseal showed and authenticated.
// Either way the document is refused rather than passed over.
func (d *Doc) checkKubectlView() error {
	ks, mine := kubectlSecrets(d.raw), d.ksealSecrets()
	if len(ks) > len(mine) {
		return d.errorf("", "kubectl reads %d Secret(s) in this document where kseal reads %d: it is written in a way the two read differently (aliases, repeated keys, tags); write it plainly", len(ks), len(mine))
	}
	if len(ks) < len(mine) {
		return nil // kubectl refuses what kseal reads: nothing applied unseen
	}
	for i, u := range ks {
		if err := mine[i].sameAsKubectl(u); err != nil {
			return mine[i].wrap("", err)
		}
	}
	return nil
}

// sameAsKubectl compares what kseal read of d with what kubectl read of
// the same object. Template fields and names must be the same strings
// (immutable the same boolean). Values need only not be another string: a
// value kubectl reads as a number is one the API server refuses.
func (d *Doc) sameAsKubectl(u *unstructured.Unstructured) error {
	if k := kubectlKind(u); k != KindOther && (k == KindSealedSecret) != (d.Kind == KindSealedSecret) {
		return fmt.Errorf("kubectl reads this as a %s, kseal as a %s; write it plainly", k, d.Kind)
	}
	fields, meta := d.templatePath()
	var scalars [][]string
	for _, f := range []string{"name", "namespace", "generateName"} {
		scalars = append(scalars, []string{"metadata", f})
	}
	scalars = append(scalars, append(slices.Clone(fields), "type"), append(slices.Clone(fields), "immutable"))
	for _, p := range scalars {
		if err := sameScalar(d.node, u.Object, p); err != nil {
			return err
		}
	}
	strict := [][]string{{"metadata", "labels"}, {"metadata", "annotations"}}
	values := [][]string{{"data"}, {"stringData"}}
	if d.Kind == KindSealedSecret {
		strict = append(strict, append(slices.Clone(meta), "labels"), append(slices.Clone(meta), "annotations"))
		values = [][]string{{"spec", "encryptedData"}}
	}
	for _, p := range strict {
		if err := sameMap(d.node, u.Object, p, true); err != nil {
			return err
		}
	}
	for _, p := range values {
		if err := sameMap(d.node, u.Object, p, false); err != nil {
			return err
		}
	}
	return nil
}

// sameScalar compares a name or template scalar. Only these (names, a
// type, true or false) are quoted in the error: they are public.
func sameScalar(n *yaml.RNode, obj map[string]any, path []string) error {
	v, _ := nodeAt(n, path...)
	var mine any // nil: absent or null
	if v != nil && !yaml.IsMissingOrNull(v) {
		mine = v.YNode().Value
		if path[len(path)-1] == "immutable" {
			mine = v.YNode().Value == "true"
		}
	}
	theirs, _ := lookup(obj, path)
	if theirs == "" && mine == nil && path[len(path)-1] != "immutable" {
		theirs = nil // an empty string is no name and the default type
	}
	if sameValue(theirs, mine) {
		return nil
	}
	how := "write it without a tag"
	switch theirs.(type) {
	case nil, string:
	default:
		how = "YAML 1.1, which kubectl reads, takes some unquoted words and numbers for other types: quote it"
	}
	return fmt.Errorf("%s: kubectl reads %s where kseal reads %s; %s", strings.Join(path, "."), show(theirs), show(mine), how)
}

// sameMap compares labels, annotations or values. strict: every entry
// must be the same string. Otherwise an entry kubectl reads as another
// string, or under another key, is refused; one it reads as no string at
// all (a number) is left to the API server, which refuses it. Values are
// never quoted in errors: they may be secret.
func sameMap(n *yaml.RNode, obj map[string]any, path []string, strict bool) error {
	mine, err := stringMap(n, path...)
	if err != nil {
		return nil // refused elsewhere with a better message
	}
	raw, _ := lookup(obj, path)
	theirs, _ := raw.(map[string]any)
	at := strings.Join(path, ".")
	for _, k := range slices.Sorted(maps.Keys(mine)) {
		if _, ok := theirs[k]; !ok {
			return fmt.Errorf("%s[%s]: kubectl reads another key here (YAML 1.1 reads some unquoted keys, such as on or 0x10, as booleans or numbers); quote the key", at, strconv.Quote(k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(theirs)) {
		tv := theirs[k]
		ts, isString := tv.(string)
		if tv == nil {
			ts, isString = "", true
		}
		mv, ok := mine[k]
		switch {
		case !ok:
			return fmt.Errorf("%s: kubectl reads a key kseal does not (a tag, or a YAML 1.1 form); write keys as plain strings", at)
		case !isString && strict:
			return fmt.Errorf("%s[%s]: kubectl reads no string here (YAML 1.1 reads some unquoted words and numbers, such as yes, no, on, off, as other types); quote it", at, strconv.Quote(k))
		case isString && ts != mv:
			return fmt.Errorf("%s[%s]: kubectl reads another text than kseal (a tag, or a YAML 1.1 form); write it as a plain string", at, strconv.Quote(k))
		}
	}
	return nil
}

// lookup follows path through kubectl's JSON objects.
func lookup(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// sameValue compares a scalar kseal read (nil, a string or a bool) with
// what kubectl read, which may be anything JSON holds.
func sameValue(theirs, mine any) bool {
	switch t := theirs.(type) {
	case nil, string, bool:
		return t == mine
	}
	return false
}

func show(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(v)
	case bool, float64, int64:
		return fmt.Sprintf("the %T %v", v, v)
	}
	return fmt.Sprintf("a %T", v)
}

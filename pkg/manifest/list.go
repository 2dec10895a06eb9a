package manifest

import (
	"errors"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Lists: `kind: List` (and every other *List kind with items, as kubectl get
// prints them) and top-level YAML sequences of objects hold objects too.
// Their Secrets and sealed objects become documents of their own, listed
// right after the list in Stream.Docs, so that every command seals, opens
// and checks them exactly like top-level documents. The list itself stays
// KindOther; it is re-encoded when one of its items changed.

// listed is what a list document, or an item of one, holds of the list.
// A document of neither kind has none (Doc.lst is nil): most documents
// are neither, and a stream holds up to MaxDocuments of them.
type listed struct {
	// An item: the list that holds it, and its 0-based place there.
	parent *Doc
	item   int
	// A list that holds Secrets or sealed objects: those, as documents,
	// the list's tree, and the sequence of its items.
	items []*Doc
	node  *yaml.RNode
	seq   *yaml.Node
}

// isItem reports whether the document is an item of a list.
func (d *Doc) isItem() bool { return d.lst != nil && d.lst.parent != nil }

// itemDocs returns the Secrets and sealed objects of a list document, in
// order, or nil.
func (d *Doc) itemDocs() []*Doc {
	if d.lst == nil {
		return nil
	}
	return d.lst.items
}

// Item returns the 0-based position of the document in its list, or -1 for
// a top-level document.
func (d *Doc) Item() int {
	if !d.isItem() {
		return -1
	}
	return d.lst.item
}

// listItems returns the sequence holding the objects of n when n is a list
// (a *List kind with items, or a top-level sequence), or nil.
func listItems(n *yaml.RNode) *yaml.Node {
	y := n.YNode()
	switch y.Kind {
	case yaml.SequenceNode:
		return y
	case yaml.MappingNode:
		// Any object with an items sequence is a list to kubectl
		// (apimachinery's unstructured decoder), whatever its kind.
		f := n.Field("items")
		if f == nil || f.Value.YNode().Kind != yaml.SequenceNode {
			return nil
		}
		return f.Value.YNode()
	}
	return nil
}

// expandList makes a document of every Secret or sealed object in the list
// n of d. Items that are lists themselves are refused: kubectl never writes
// them, and kseal would otherwise have to guess.
func (d *Doc) expandList(n *yaml.RNode, seq *yaml.Node) error {
	if n.YNode().Kind == yaml.MappingNode && kindOf(n) != KindOther {
		// kubectl would apply the items and ignore the object itself;
		// kseal would seal one and leave the other in plaintext.
		return d.errorf("items", "a %s with items is a list to kubectl; put the items in documents of their own", kindOf(n))
	}
	var items []*Doc
	for i, c := range seq.Content {
		if c.Kind == yaml.AliasNode {
			return d.itemErr(i, c, errors.New("aliases are not supported in lists"))
		}
		if c.Kind == yaml.SequenceNode {
			return d.itemErr(i, c, errors.New("a list inside a list is not supported"))
		}
		if c.Kind != yaml.MappingNode {
			continue
		}
		in := yaml.NewRNode(c)
		if listItems(in) != nil {
			return d.itemErr(i, c, errors.New("a list inside a list is not supported"))
		}
		k := kindOf(in)
		if k == KindOther {
			continue
		}
		it := &Doc{Index: d.Index, Line: d.Line + c.Line - 1, Kind: k, node: in, lst: &listed{parent: d, item: i}, wide: d.wide}
		if err := checkMetadata(in); err != nil {
			return &Error{Doc: d.Index, Item: i + 1, Err: err}
		}
		if err := it.checkTemplate(); err != nil {
			return &Error{Doc: d.Index, Item: i + 1, Err: err}
		}
		items = append(items, it)
	}
	if len(items) > 0 {
		// The list holds Secrets: kseal and kubectl must read all of it
		// alike (a second items: key, a merge key, an alias).
		if err := checkStrict(n.YNode(), ""); err != nil {
			return &Error{Doc: d.Index, Err: err}
		}
		d.lst = &listed{items: items, node: n, seq: seq}
	}
	return nil
}

func (d *Doc) itemErr(i int, c *yaml.Node, err error) error {
	return &Error{Doc: d.Index, Item: i + 1, Err: err}
}

// listChanged writes changed items back into their list and reports whether
// any changed. An item's node may have been replaced (ToPlain builds a new
// Secret), so the sequence entry is set again.
func (d *Doc) listChanged() bool {
	changed := false
	for _, it := range d.lst.items {
		if it.changed {
			d.lst.seq.Content[it.lst.item] = it.node.YNode()
			changed = true
		}
	}
	return changed
}

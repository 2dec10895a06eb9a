package manifest

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/pkg/manifest/internal/yamlevents"
)

// maxOtherNodes caps the tree OtherTree builds: a generator config, a
// bitnami SealedSecret or a sops document holds far fewer nodes, and a
// tree this size costs a few tens of MiB at most, once per document.
const maxOtherNodes = 1 << 16

// TypeMeta returns the apiVersion and kind the document's top level
// declares, read from its events for a document kseal passes through.
func (d *Doc) TypeMeta() (apiVersion, kind string) {
	if d.node != nil {
		return d.node.GetApiVersion(), d.node.GetKind()
	}
	h := d.head()
	return h.APIVersion, h.Kind
}

// OtherTree returns the node tree of a document kseal passes through, for
// the checks that look into such objects (a kseal SecretGenerator config,
// an unconverted bitnami SealedSecret, a sops document): nil unless its
// top level is a mapping of at most maxOtherNodes nodes. Parsing every
// document that way would break the parse memory bound (see limits.go),
// and a top level that is not a mapping makes kyaml's accessors panic.
func (d *Doc) OtherTree() *yaml.RNode {
	if d.node != nil {
		return d.node
	}
	if d.root != yamlevents.RootMapping || int(d.nodes) > maxOtherNodes {
		return nil
	}
	n, err := yaml.Parse(d.raw)
	if err != nil || n.YNode().Kind != yaml.MappingNode {
		return nil
	}
	return n
}

// SopsEncrypted reports whether sops encrypted the document, or the list
// holding it (sops keeps its metadata at the top of the file): a "sops"
// key at its top level holds a mapping. A Secret sops encrypted reads as a
// plain Secret whose values are sops' ciphertexts.
func (d *Doc) SopsEncrypted() bool {
	if d.isItem() {
		return d.lst.parent.SopsEncrypted()
	}
	if d.node != nil {
		f := d.node.Field("sops")
		return f != nil && f.Value.YNode().Kind == yaml.MappingNode
	}
	return d.head().Sops
}

// head is what the event pass read of the document's top level, or the
// zero Header.
func (d *Doc) head() yamlevents.Header {
	if d.header == nil {
		return yamlevents.Header{}
	}
	return *d.header
}

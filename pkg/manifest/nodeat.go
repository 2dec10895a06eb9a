package manifest

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// nodeAt is n.Pipe(yaml.Lookup(path...)) for paths of field names, as
// kseal uses it: the value of the first field of that name at each step;
// nil, and no error, when a field is missing or a step is null; an error
// when a step is neither a mapping nor null. It skips the field-path
// bookkeeping and the filters kyaml allocates at every step, which were a
// tenth of what reading a sealed file allocated. FuzzNodeAtIsKyamlLookup
// holds it to kyaml's.
func nodeAt(n *yaml.RNode, path ...string) (*yaml.RNode, error) {
	if n.IsNil() {
		return nil, nil
	}
	cur := n.YNode()
	if cur.Kind == yaml.DocumentNode {
		cur = cur.Content[0]
	}
	for _, p := range path {
		if cur.Tag == yaml.NodeTagNull {
			return nil, nil
		}
		if cur.Kind != yaml.MappingNode || len(cur.Content)%2 != 0 {
			return nil, yaml.ErrorIfInvalid(yaml.NewRNode(cur), yaml.MappingNode)
		}
		var next *yaml.Node
		for i := 0; i < len(cur.Content); i += 2 {
			if cur.Content[i].Value == p {
				next = cur.Content[i+1]
				break
			}
		}
		if next == nil {
			return nil, nil
		}
		cur = next
	}
	return yaml.NewRNode(cur), nil
}

package cli

import (
	"fmt"

	"kseal.dev/kseal/pkg/manifest"
)

// Commands that work on one sealed object of one file (extract, exec-env,
// set, unset) find it here.

// selectOne picks the sealed document of in that set, unset, extract and
// exec-env work on: the only one, or the one named with --name.
func selectOne(in *input, name string) (*manifest.Doc, error) {
	var found []*manifest.Doc
	for _, d := range in.strm.Docs {
		if d.Kind != manifest.KindSealedSecret && d.Kind != manifest.KindEncrypted {
			continue
		}
		if name == "" || d.Node().GetName() == name {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if name != "" {
			return nil, fmt.Errorf("%s: no sealed object named %s", in.name, name)
		}
		return nil, fmt.Errorf("%s: no sealed object", in.name)
	}
	return nil, usagef("%s holds %d sealed objects; choose one with --name", in.name, len(found))
}

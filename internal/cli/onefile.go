package cli

import (
	"fmt"
	"strings"

	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/manifest"
)

// Commands that work on one file (verify reads each path so, exec-file)
// and on one sealed object of it (extract, exec-env, set, unset) read,
// pick and open it here.

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

// openOne opens the sealed object of file ("-": standard input) that name
// picks (the only one when name is empty).
func openOne(e *env, idf *identityFlags, file, name string) (*input, *manifest.Doc, *crypto.Opened, error) {
	ids, err := idf.resolve(e)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := readOne(e, file)
	if err != nil {
		if strings.HasPrefix(err.Error(), file+":") {
			return nil, nil, nil, err
		}
		return nil, nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	d, err := selectOne(in, name)
	if err != nil {
		return nil, nil, nil, err
	}
	_, o, err := openDoc(e, d, ids)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", in.name, err)
	}
	return in, d, o, nil
}

// readOne reads and parses one input ("-" for standard input).
func readOne(e *env, p string) (*input, error) {
	return readOneAs(e, p, fileFlags{dotenv: true})
}

// readOneAs is readOne parsing as f says (f.each: a document at a time,
// for a caller that Loads each document it reads and Releases it).
func readOneAs(e *env, p string, f fileFlags) (*input, error) {
	in, err := readInput(e, p)
	if err != nil {
		return nil, err
	}
	if in.strm, err = f.parse(p, in.text); err != nil {
		return nil, err
	}
	return in, nil
}

package cli

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"

	"kseal.dev/kseal/internal/importer/sops"
	"kseal.dev/kseal/pkg/manifest"
)

// ksopsSecretFrom is one secretFrom entry of a KSOPS generator: a Secret
// KSOPS builds from sops-encrypted files, as kustomize's secretGenerator
// builds one from plain files. KSOPS reads each file with sops' format for
// its name (.yaml, .json, .env, .ini, else binary) and takes its whole
// cleartext as one value (files, binaryFiles: KEY=PATH or PATH, the key
// then being the file's base name) or its KEY=VALUE lines as values (envs).
type ksopsSecretFrom struct {
	Metadata    generatedMeta `json:"metadata"`
	Type        string        `json:"type,omitempty"`
	Files       []string      `json:"files,omitempty"`
	BinaryFiles []string      `json:"binaryFiles,omitempty"`
	Envs        []string      `json:"envs,omitempty"`
}

// convertSecretFrom makes the plain Secret a secretFrom entry (entry, the
// raw value of one list item) stands for, reading its sops files relative
// to dir: the document import ksops seals like a Secret of a files: entry.
func convertSecretFrom(e *env, dir string, entry any) (*manifest.Doc, error) {
	raw, err := sigsyaml.Marshal(entry)
	if err != nil {
		return nil, err
	}
	var sf ksopsSecretFrom
	// Strict: a field KSOPS reads and kseal would not (or a typo) is an
	// error, never a Secret quietly missing values.
	if err := sigsyaml.UnmarshalStrict(raw, &sf); err != nil {
		return nil, err
	}
	if err := manifest.CheckName(sf.Metadata.Name); err != nil {
		return nil, fmt.Errorf("metadata.name: %w", err)
	}
	if len(sf.Files)+len(sf.BinaryFiles)+len(sf.Envs) == 0 {
		return nil, fmt.Errorf("no files, binaryFiles or envs: nothing to convert")
	}
	values := map[string][]byte{}
	from := map[string]string{}
	put := func(field, src, k string, v []byte) error {
		if prev, dup := from[k]; dup {
			// KSOPS lets the later one win in silence.
			return fmt.Errorf("%s %s: key %q is also in %s", field, src, k, prev)
		}
		from[k], values[k] = field+" "+src, v
		return nil
	}
	for _, field := range []struct {
		name  string
		items []string
	}{{"files", sf.Files}, {"binaryFiles", sf.BinaryFiles}} {
		for _, item := range field.items {
			key, path, err := ksopsFileKey(item)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", field.name, item, err)
			}
			clear, err := decryptSopsSource(e, dir, path)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", field.name, item, err)
			}
			if err := put(field.name, item, key, clear); err != nil {
				return nil, err
			}
		}
	}
	for _, path := range sf.Envs {
		clear, err := decryptSopsSource(e, dir, path)
		if err != nil {
			return nil, fmt.Errorf("envs %s: %w", path, err)
		}
		kv, err := ksopsDotenv(clear)
		if err != nil {
			return nil, fmt.Errorf("envs %s: %w", path, err)
		}
		for _, p := range kv {
			if err := put("envs", path, p[0], []byte(p[1])); err != nil {
				return nil, err
			}
		}
	}
	return plainSecretDoc(sf, values)
}

// ksopsFileKey splits KEY=PATH (or PATH, keyed by its base name) as KSOPS
// does; more than one "=" is an error there too.
func ksopsFileKey(item string) (string, string, error) {
	switch parts := strings.Split(item, "="); len(parts) {
	case 1:
		return filepath.Base(item), item, nil
	case 2:
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("more than one \"=\": want KEY=PATH or PATH")
}

// decryptSopsSource decrypts the sops file at path (relative to dir, and
// inside it, links resolved) with the format sops gives its name, after
// checking it is sops-encrypted: KSOPS would refuse a plain one, and kseal
// never carries plaintext over.
func decryptSopsSource(e *env, dir, path string) ([]byte, error) {
	if path == "" || filepath.IsAbs(path) || !filepath.IsLocal(path) {
		return nil, fmt.Errorf("a path inside the generator's directory, as the kseal SecretGenerator requires")
	}
	p := filepath.Join(dir, path)
	if err := insideDir(dir, p); err != nil {
		return nil, err
	}
	data, _, err := readRegular(p)
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	format := sopsFormat(path)
	switch format {
	case "dotenv":
		if !sops.Dotenv(data) {
			return nil, fmt.Errorf("not a sops-encrypted dotenv file (no sops_ metadata lines)")
		}
	case "ini":
		if !bytes.Contains(data, []byte("[sops]")) {
			return nil, fmt.Errorf("not a sops-encrypted INI file (no [sops] section)")
		}
	default: // yaml, json, and binary (sops writes a JSON document)
		strm, err := manifest.Parse(data)
		if err != nil {
			return nil, err
		}
		for _, d := range strm.Docs {
			if !sops.Encrypted(d) {
				return nil, fmt.Errorf("doc %d: not sops-encrypted; kseal does not carry plaintext over", d.Index)
			}
			if err := sops.CheckMAC(d); err != nil {
				return nil, err
			}
		}
	}
	bin, err := sops.Binary(e.getenv)
	if err != nil {
		return nil, err
	}
	return sops.Decrypt(e.ctx, bin, data, format)
}

// sopsFormat is the format sops (and so KSOPS) reads a file named path in:
// by its extension, as written (x.YAML is a binary file to sops).
func sopsFormat(path string) string {
	switch filepath.Ext(path) {
	case ".yaml", ".yml":
		return "yaml"
	case ".json":
		return "json"
	case ".env":
		return "dotenv"
	case ".ini":
		return "ini"
	}
	return "binary"
}

// ksopsDotenv reads the KEY=VALUE lines of a decrypted dotenv file.
// KSOPS reads them with godotenv, which unquotes, expands ${VAR}, strips
// "export " and inline comments; a line those rules would read otherwise
// than as it stands is refused rather than guessed at.
func ksopsDotenv(data []byte) ([][2]string, error) {
	var out [][2]string
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: not KEY=VALUE", i+1)
		}
		// godotenv also cuts a value at a "#" after any space, drops a
		// "---" ending a line, and trims only ASCII spaces.
		if strings.HasPrefix(k, "export ") || strings.ContainsAny(v, "\"'`$\\\r#") ||
			strings.HasSuffix(line, "---") || t != strings.Trim(line, " \t") || strings.TrimSpace(v) != strings.Trim(v, " \t") {
			return nil, fmt.Errorf("line %d: key %q: KSOPS reads this value with godotenv's quoting, expansion or comment rules: not converted; seal the value you mean with kseal set", i+1, k)
		}
		if seen[k] {
			return nil, fmt.Errorf("line %d: key %q given twice", i+1, k)
		}
		seen[k] = true
		out = append(out, [2]string{k, strings.TrimSpace(v)})
	}
	return out, nil
}

// plainSecretDoc is the plain Secret of sf holding values, parsed as
// kseal parses a manifest (so every check on names, keys and metadata
// applies).
func plainSecretDoc(sf ksopsSecretFrom, values map[string][]byte) (*manifest.Doc, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("the sops files hold no values")
	}
	data := map[string]string{}
	for k, v := range values {
		data[k] = base64.StdEncoding.EncodeToString(v)
	}
	obj := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   sf.Metadata,
		"data":       data,
	}
	if sf.Type != "" {
		obj["type"] = sf.Type
	}
	text, err := sigsyaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	strm, err := manifest.Parse(text)
	if err != nil {
		return nil, err
	}
	if len(strm.Docs) != 1 || strm.Docs[0].Kind != manifest.KindSecret {
		return nil, fmt.Errorf("not a Secret")
	}
	return strm.Docs[0], nil
}

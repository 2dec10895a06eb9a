package manifest

import (
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Template fields, names and the keys of labels and annotations are read
// as kubectl reads them or refused. kubectl's YAML reader decodes tags:
// `type: !!binary a3ViZXJuZXRlcy5pby9zZXJ2aWNlLWFjY291bnQtdG9rZW4=` is a
// service-account-token Secret to `kseal decrypt | kubectl apply`, while
// kseal would show, seal and authenticate the base64 text; and an unquoted
// number, boolean or null is no string to kubectl at all. So these fields
// must be scalars that YAML reads as strings (immutable: as a boolean),
// written without a tag or with the one they have anyway (!!str, !!bool).
// checkKubectlView compares what is left (YAML 1.1 forms such as `yes`,
// which kseal's YAML 1.2 reader takes for a string).

// plainString refuses a scalar that YAML does not read as a string.
func plainString(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return errors.New("must be a string")
	}
	if v.Tag == yaml.NodeTagString || (v.Tag == "!!timestamp" && v.Style&yaml.TaggedStyle == 0) {
		// An untagged date is the same text to kubectl's reader.
		return nil
	}
	return tagError(v, "a string")
}

// plainBool refuses a scalar that YAML does not read as true or false.
func plainBool(v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode && v.Tag == yaml.NodeTagBool && (v.Value == "true" || v.Value == "false") {
		return nil
	}
	if v.Kind == yaml.ScalarNode && v.Style&yaml.TaggedStyle != 0 && v.Tag != yaml.NodeTagBool {
		return tagError(v, "true or false")
	}
	return errors.New("must be true or false")
}

// plainKey refuses a mapping key written with a tag other than !!str: the
// key kubectl reads would not be the text. An untagged key that YAML reads
// as a number (`1: x`) is the same text to kubectl and is left alone.
func plainKey(k *yaml.Node) error {
	if k.Kind != yaml.ScalarNode {
		return errors.New("keys must be strings")
	}
	if k.Style&yaml.TaggedStyle != 0 && k.Tag != yaml.NodeTagString {
		return fmt.Errorf("key written with the tag %q, which kubectl's reader applies (it decodes !!binary) where kseal reads the text; write the key without a tag", k.Tag)
	}
	return nil
}

func tagError(v *yaml.Node, want string) error {
	if v.Style&yaml.TaggedStyle != 0 {
		return fmt.Errorf("written with the tag %q, which kubectl's reader applies (it decodes !!binary) where kseal reads the text; write %s without a tag", v.Tag, want)
	}
	what := map[string]string{yaml.NodeTagInt: "a number", yaml.NodeTagFloat: "a number", yaml.NodeTagBool: "a boolean", yaml.NodeTagNull: "null"}[v.Tag]
	if what == "" {
		what = "something else"
	}
	return fmt.Errorf("must be %s, and YAML reads this unquoted value as %s (so does kubectl, which then refuses it or reads another text); quote it", want, what)
}

// checkStringMap checks labels or annotations: null, or a mapping of plain
// strings to plain strings. Its errors start with what follows the field's
// own path (": must be a mapping", `["app"]: …`).
func checkStringMap(v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode && v.Tag == yaml.NodeTagNull {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return errors.New(": must be a mapping")
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if err := plainKey(k); err != nil {
			return fmt.Errorf("[%q]: %w", k.Value, err)
		}
		if val.Kind == yaml.ScalarNode && val.Tag == yaml.NodeTagNull && val.Value == "" {
			continue // "key:" with nothing after it: "" to kseal and to the API server
		}
		if err := plainString(val); err != nil {
			return fmt.Errorf("[%q]: %w", k.Value, err)
		}
	}
	return nil
}

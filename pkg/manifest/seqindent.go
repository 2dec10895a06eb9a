package manifest

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// seqIndentStyle is kyaml's DeriveSeqIndentStyle of raw without its
// allocations: it splits raw into lines and each line at "- " (some 20
// allocations for a Secret, 50 for a SealedSecret), where this reads the
// same lines in place. Like kyaml, it finds the first line that is a
// sequence item ("- " after nothing but spaces) under a key line (the
// closest line before it that is not a comment, without its trailing
// comment) of one ':' at its end, whose indent tells compact (the same as
// the key's) or wide (two more); any other such line is passed over, and
// none gives compact. TestSeqIndentStyleIsKyamls and FuzzSeqIndentStyle
// hold it to kyaml.
func seqIndentStyle(raw string) string {
	for start, rest := 0, raw; ; {
		line, after, more := strings.Cut(rest, "\n")
		if i := strings.Index(line, "- "); i >= 0 && strings.Trim(line[:i], " ") == "" {
			if key := keyLineBefore(raw, start); key != "" {
				keyIndent := len(key) - len(strings.TrimLeft(key, " "))
				k := strings.Trim(key, " ")
				if strings.Count(k, ":") == 1 && strings.HasSuffix(k, ":") {
					switch i - keyIndent {
					case 0:
						return string(yaml.CompactSequenceStyle)
					case 2:
						return string(yaml.WideSequenceStyle)
					}
				}
			}
		}
		if !more {
			return string(yaml.CompactSequenceStyle)
		}
		start, rest = start+len(line)+1, after
	}
}

// seqStyle is the sequence indent style the document is written in: that
// of its original.
func (d *Doc) seqStyle() string {
	if d.wide {
		return string(yaml.WideSequenceStyle)
	}
	return string(yaml.CompactSequenceStyle)
}

// keyLineBefore is kyaml's keyLineBeforeSeqElem for the line of raw
// that starts at start: the closest line before it whose text, trimmed of
// spaces, does not start with "#", up to its first "#"; or "".
func keyLineBefore(raw string, start int) string {
	for start > 0 {
		end := start - 1 // the line break that ends the line before
		start = strings.LastIndexByte(raw[:end], '\n') + 1
		line := raw[start:end]
		if strings.HasPrefix(strings.Trim(line, " "), "#") {
			continue
		}
		key, _, _ := strings.Cut(line, "#")
		return key
	}
	return ""
}

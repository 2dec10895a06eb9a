package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// invalidYAML reports a parser error of the document with its line numbers
// counted from the top of the file (the parser counts from the document's
// first line), quoted input redacted.
func (d *Doc) invalidYAML(err error) error {
	msg := yamlLine.ReplaceAllStringFunc(redactQuoted(err.Error()), func(m string) string {
		n, _ := strconv.Atoi(yamlLine.FindStringSubmatch(m)[1])
		return "line " + strconv.Itoa(n+d.Line-1)
	})
	return d.errorf("", "invalid YAML: %s", msg)
}

// ErrEncoding: input that is not UTF-8. kseal splits documents on "---"
// lines byte-wise, which UTF-16 and UTF-32 text defeats.
var ErrEncoding = errors.New("not UTF-8")

func checkEncoding(data string) error {
	for _, bom := range []struct {
		b    string
		name string
	}{{"\x00\x00\xfe\xff", "UTF-32"}, {"\xff\xfe\x00\x00", "UTF-32"}, {"\xfe\xff", "UTF-16"}, {"\xff\xfe", "UTF-16"}} {
		if strings.HasPrefix(data, bom.b) {
			return fmt.Errorf("%w: %s text (byte order mark); convert it: iconv -f %s -t UTF-8", ErrEncoding, bom.name, bom.name)
		}
	}
	return nil
}

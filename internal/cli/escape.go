package cli

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Nothing kseal prints lets a control character from its input reach a
// terminal: a file name, a key ID or stanza type from an envelope, a type,
// label or annotation, an error quoting any of them may hold a newline (a
// forged "kseal: hint:" line), an escape sequence (clear the screen, set
// the title, write to the clipboard) or a bidi override that shows text in
// another order than it is. Names are validated on input (pkg/manifest);
// everything else is escaped where it is printed.

// unsafeRune reports whether a terminal would act on r rather than show
// it: C0 and C1 controls, DEL, and Unicode format characters (bidi
// embeddings, overrides and isolates, marks, zero-width characters, the
// byte order mark) and line and paragraph separators.
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// printable returns s with every unsafe rune, and every byte that is not
// UTF-8, escaped: \xNN for ASCII controls and bad bytes, \u{…} above. Tab and
// newline are escaped too: s is one field of a line.
func printable(s string) string { return escape(s, false) }

// printableText escapes like printable but keeps line ends and tabs, for
// text shown as it is (diff-view's other documents); a carriage return is
// kept only before a newline (CRLF files), where it moves nothing.
func printableText(s string) string { return escape(s, true) }

func escape(s string, text bool) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafeRune(r), text && (r == '\n' || r == '\t' || r == '\r' && strings.HasPrefix(s[i+1:], "\n")):
			b.WriteString(s[i : i+size])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u{%x}`, r)
		}
		i += size
	}
	return b.String()
}

// jsonPrintable escapes, in JSON that encoding/json wrote, the runes it
// leaves raw and a terminal would act on (DEL, C1 controls, format
// characters) as \uXXXX: the same JSON values, safe to show. encoding/json
// escapes C0 controls itself and writes only valid UTF-8.
func jsonPrintable(b []byte) []byte {
	s := string(b)
	if !strings.ContainsFunc(s, unsafeRune) {
		return b
	}
	var out strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r) || r == '\n' || r == '\t' || r == ' ':
			out.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return []byte(out.String())
}

// errorLines renders err for a terminal, escaped, one line per error that
// errors.Join put together (kseal.yaml's problems, identity sources that
// failed): those newlines are kseal's, any other is input's and printed
// as \x0a.
func errorLines(err error) []string {
	msg := err.Error()
	j := joined(err)
	if j == nil {
		return []string{printable(msg)}
	}
	jm := j.Error()
	at := strings.Index(msg, jm)
	if at < 0 {
		return []string{printable(msg)}
	}
	var lines []string
	for _, e := range j.Unwrap() {
		lines = append(lines, errorLines(e)...)
	}
	lines[0] = printable(msg[:at]) + lines[0]
	lines[len(lines)-1] += printable(msg[at+len(jm):])
	return lines
}

type multiError interface {
	error
	Unwrap() []error
}

// joined finds the errors.Join in err's chain, if any: an error of several
// whose message is theirs, one per line.
func joined(err error) multiError {
	for err != nil {
		if m, ok := err.(multiError); ok {
			errs := m.Unwrap()
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			switch {
			case len(errs) > 1 && m.Error() == strings.Join(msgs, "\n"):
				return m
			case len(errs) == 1:
				err = errs[0]
				continue
			}
			return nil
		}
		err = errors.Unwrap(err)
	}
	return nil
}

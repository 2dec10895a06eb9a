package controller

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// printable returns s with every character a terminal could act on
// escaped the way Go quotes strings: control characters (\n, \x1b, \t),
// format characters such as the bidirectional overrides (\u202e), and
// invalid UTF-8 (\xff). Anything else, non-ASCII letters included, stays.
// A status message, an event and a log line are read on terminals
// (kubectl describe, kubectl get -o wide, stern); text from the object
// must not move the cursor, recolour the screen or fake another line.
func printable(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
			n = 1
		case unicode.IsPrint(r):
			b.WriteString(s[:n])
		default:
			q := strconv.QuoteRune(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		s = s[n:]
	}
	return b.String()
}

// printableAll applies printable to each string of ss (a new slice).
func printableAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = printable(s)
	}
	return out
}

// quoteAll quotes each string (Go syntax, %q) and joins them with ", ":
// key IDs and the like come from the object.
func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// badName says why ss's name or namespace is not what the API server
// accepts for a SealedSecret (name a DNS-1123 subdomain, namespace a
// DNS-1123 label), or "". The API server refuses such objects already
// (TestAPIServerRefusesBadNames); this cheap guard keeps a name that got
// through some other way (an aggregated API, a future relaxation) out of
// the Secret, Role and event the controller writes for it.
func badName(ss *ksealv1.SealedSecret) string {
	if errs := validation.IsDNS1123Subdomain(ss.Name); len(errs) > 0 {
		return fmt.Sprintf("metadata.name %q is not a DNS-1123 subdomain: %s", ss.Name, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(ss.Namespace); len(errs) > 0 {
		return fmt.Sprintf("metadata.namespace %q is not a DNS-1123 label: %s", ss.Namespace, strings.Join(errs, "; "))
	}
	return ""
}

// Package k8sname holds the API server's rules for names and namespaces
// (apimachinery's validation.IsDNS1123Subdomain and IsDNS1123Label) as
// loops over bytes. apimachinery matches regular expressions, which were
// about a fiftieth of a decrypt's CPU: every sealed object's name and
// namespace is checked where it is read and again in its envelope.
// k8sname_test.go holds both to apimachinery's answers.
package k8sname

const (
	// LabelMax is the longest DNS-1123 label (a namespace).
	LabelMax = 63
	// SubdomainMax is the longest DNS-1123 subdomain (a Secret's name).
	SubdomainMax = 253
)

// IsLabel reports whether s is a DNS-1123 label: at most 63 of a-z, 0-9
// and '-', starting and ending with a letter or digit.
func IsLabel(s string) bool { return len(s) <= LabelMax && labels(s, false) }

// IsSubdomain reports whether s is a DNS-1123 subdomain: at most 253
// bytes of labels joined by '.', each of a-z, 0-9 and '-', starting and
// ending with a letter or digit (a label's own length is not bounded).
func IsSubdomain(s string) bool { return len(s) <= SubdomainMax && labels(s, true) }

// labels reports whether s is one or more labels, joined by '.' if dots.
func labels(s string, dots bool) bool {
	if s == "" {
		return false
	}
	prev := byte('.') // what came before: '.' at the start of a label
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c == '-':
			if prev == '.' {
				return false
			}
		case c == '.' && dots:
			if prev == '.' || prev == '-' {
				return false
			}
		default:
			return false
		}
		prev = c
	}
	return prev != '.' && prev != '-'
}

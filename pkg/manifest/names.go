package manifest

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"kseal.dev/kseal/internal/k8sname"
)

// Names are checked by the API server's own rules (apimachinery's
// validation package, held as loops in internal/k8sname): a Secret's or
// SealedSecret's name is a DNS-1123 subdomain, a namespace a DNS-1123
// label. A name the API server would refuse is refused when the file is
// read, so that nothing kseal prints or writes (an inspect line, an error,
// a kubectl command in a script) carries a name with a newline, an escape
// sequence, or a leading "--" that a kubectl command line would take for
// an option.

// CheckName refuses a metadata.name the API server would refuse for a
// Secret or a SealedSecret.
func CheckName(name string) error {
	if !k8sname.IsSubdomain(name) {
		return fmt.Errorf("%q is not a name the API server accepts: a DNS-1123 subdomain is at most %d characters of a-z, 0-9, '-' and '.', and starts and ends with a letter or digit", name, k8sname.SubdomainMax)
	}
	return nil
}

// CheckNamespace refuses a namespace the API server would refuse.
func CheckNamespace(ns string) error {
	if !k8sname.IsLabel(ns) {
		return fmt.Errorf("%q is not a namespace the API server accepts: a DNS-1123 label is at most %d characters of a-z, 0-9 and '-', and starts and ends with a letter or digit", ns, k8sname.LabelMax)
	}
	return nil
}

// checkGenerateName refuses a generateName prefix the API server would
// refuse: with five random characters appended it must be a name, which
// apimachinery checks by masking a trailing '-' (NameIsDNSSubdomain with
// prefix set; its mask drops two characters, copied here as it is).
func checkGenerateName(prefix string) error {
	masked := prefix
	if len(masked) > 1 && masked[len(masked)-1] == '-' {
		masked = masked[:len(masked)-2] + "a"
	}
	if !k8sname.IsSubdomain(masked) {
		return fmt.Errorf("%q is not a name prefix the API server accepts: a DNS-1123 subdomain is at most %d characters of a-z, 0-9, '-' and '.', and starts with a letter or digit", prefix, k8sname.SubdomainMax)
	}
	return nil
}

// checkNameField checks metadata's name, namespace or generateName field:
// a plain string (no tag: kubectl would decode `name: !!binary ZGI=` as
// "db" where kseal reads "ZGI="), and, when set, one the API server takes.
// A missing or empty one is left to the commands that need it.
func checkNameField(field string, v *yaml.Node) error {
	if err := plainString(v); err != nil {
		return fmt.Errorf("metadata.%s: %w", field, err)
	}
	if v.Value == "" {
		return nil
	}
	var err error
	switch field {
	case "name":
		err = CheckName(v.Value)
	case "namespace":
		err = CheckNamespace(v.Value)
	case "generateName":
		err = checkGenerateName(v.Value)
	}
	if err != nil {
		return fmt.Errorf("metadata.%s: %w", field, err)
	}
	return nil
}

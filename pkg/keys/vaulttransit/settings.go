package vaulttransit

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// A service's Vault settings in kseal.yaml:
//
//	services:
//	  orders:
//	    serviceAccounts: [orders-api]
//	    providers:
//	      vault:
//	        role: orders                 # its Kubernetes auth role; the controller logs in as the service
//	        serviceAccount: orders-api   # optional: which of serviceAccounts (default: the first sorted)
func validateSettings(set map[string]string) error {
	var unknown []string
	for k := range set {
		if k != "role" && k != "serviceAccount" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown setting %q (known: role, serviceAccount)", unknown[0])
	}
	if r := set["role"]; r == "" || strings.ContainsAny(r, "/ ") {
		return fmt.Errorf("role: want the name of a Vault Kubernetes auth role")
	}
	if sa := set["serviceAccount"]; strings.ContainsAny(sa, " ") {
		return fmt.Errorf("serviceAccount: want NAME or NAMESPACE/NAME")
	}
	return nil
}

// loginAccounts narrows a service's ServiceAccounts to the one its settings
// name, if they name one (and only if the service lists it).
func loginAccounts(sas []string, set map[string]string) []string {
	want := set["serviceAccount"]
	if want == "" {
		return sas
	}
	if slices.Contains(sas, want) {
		return []string{want}
	}
	return nil
}

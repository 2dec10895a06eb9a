package policy

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"kseal.dev/kseal/pkg/keys"
)

// validate checks every section, going on past errors so that one run
// reports them all.
func (p *Policy) validate() error {
	var errs []error
	if p.APIVersion != "kseal.dev/v1alpha1" || p.Kind != "Policy" {
		errs = append(errs, p.errAt("apiVersion", "want apiVersion: kseal.dev/v1alpha1 and kind: Policy"))
	}
	errs = append(errs, p.validateClusters()...)
	errs = append(errs, p.validateKeys()...)
	globs, serr := p.validateServices()
	errs = append(errs, serr...)
	sglobs, sherr := p.validateShared()
	errs = append(errs, sherr...)
	errs = append(errs, p.overlappingPaths(append(globs, sglobs...))...)
	errs = append(errs, p.checkExclude()...)
	return errors.Join(errs...)
}

// pathOwner is a path glob and who owns it (a service, or a shared secret).
type pathOwner struct{ glob, owner, at string }

// validateClusters checks clusters: and reads their recipients files.
func (p *Policy) validateClusters() (errs []error) {
	for _, name := range sortedKeys(p.Clusters) {
		c := p.Clusters[name]
		at := "clusters." + name
		if c == nil || c.RecipientsFile == "" {
			errs = append(errs, p.errAt(at, "cluster %q: recipientsFile is required (kseal fetch-recipients --all -o FILE)", name))
			continue
		}
		for i, id := range c.Identities {
			if keys.PrincipalKind(id) == "" {
				errs = append(errs, p.errAt(fmt.Sprintf("%s.identities.%d", at, i), "cluster %q: identity %q: want one of: %s", name, id, keys.PrincipalKinds()))
			}
		}
		if p.inCluster {
			continue
		}
		b, f, err := p.readRecipientsFile(name, c.RecipientsFile)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs, err := keys.ParseRecipients(bytes.NewReader(b), f)
		if err != nil {
			errs = append(errs, p.errAt(at+".recipientsFile", "cluster %q: %v", name, err))
			continue
		}
		c.recipients = rs
	}
	return errs
}

// validateKeys checks keys: and parses their recipients.
func (p *Policy) validateKeys() (errs []error) {
	for _, name := range sortedKeys(p.Keys) {
		k := p.Keys[name]
		at := "keys." + name
		if k == nil {
			errs = append(errs, p.errAt(at, "key %q is empty", name))
			continue
		}
		if k.set != 1 {
			errs = append(errs, p.errAt(at, "key %q: set exactly one of cluster, recipient (or its aliases %s)", name, strings.Join(keys.KeyAliasFields(), ", ")))
			continue
		}
		if k.Cluster != "" {
			if _, ok := p.Clusters[k.Cluster]; !ok {
				errs = append(errs, p.errAt(at+".cluster", "key %q: unknown cluster %q", name, k.Cluster))
			}
			continue
		}
		r, err := keys.ParseRecipient(k.RecipientString())
		if err != nil {
			errs = append(errs, p.errAt(at, "key %q: %v", name, err))
			continue
		}
		k.parsed = r
	}
	return errs
}

// validateServices checks services: and returns their path globs.
func (p *Policy) validateServices() (globs []pathOwner, errs []error) {
	nsOwner := map[string]string{}
	for _, name := range sortedKeys(p.Services) {
		s := p.Services[name]
		at := "services." + name
		if s == nil || len(s.Namespaces) == 0 || len(s.Keys) == 0 {
			errs = append(errs, p.errAt(at, "service %q: namespaces and keys are required", name))
			continue
		}
		for i, ns := range s.Namespaces {
			if o, dup := nsOwner[ns]; dup {
				errs = append(errs, p.errAt(fmt.Sprintf("%s.namespaces.%d", at, i), "namespace %q belongs to both %q and %q (use a shared entry for secrets they share)", ns, o, name))
			}
			nsOwner[ns] = name
		}
		errs = append(errs, p.checkKeyRefs(at+".keys", s.Keys)...)
		for i, g := range s.Paths {
			if !doublestar.ValidatePattern(g) {
				errs = append(errs, p.errAt(fmt.Sprintf("%s.paths.%d", at, i), "invalid path glob %q", g))
			}
			globs = append(globs, pathOwner{g, name, fmt.Sprintf("%s.paths.%d", at, i)})
		}
		for i, t := range s.AllowTokenTypes {
			if !slices.Contains(TokenTypes, t) {
				errs = append(errs, p.errAt(fmt.Sprintf("%s.allowTokenTypes.%d", at, i), "service %q: %q is not a token type (want one of %v; other types need no grant)", name, t, TokenTypes))
			}
		}
		for _, pn := range sortedKeys(s.Providers) {
			if err := keys.ValidateServiceSettings(pn, s.Providers[pn]); err != nil {
				errs = append(errs, p.errAt(at+".providers."+pn, "service %q: providers.%s: %v", name, pn, err))
			}
		}
		for i, id := range append(append([]string{}, s.Writers...), s.Readers...) {
			if keys.PrincipalKind(id) == "" {
				errs = append(errs, p.errAt(at, "service %q: identity %d %q: want one of: %s", name, i, id, keys.PrincipalKinds()))
			}
		}
	}
	return globs, errs
}

// validateShared checks shared: and returns its path globs.
func (p *Policy) validateShared() (globs []pathOwner, errs []error) {
	seenShared := map[string]bool{}
	for i, sh := range p.Shared {
		at := fmt.Sprintf("shared.%d", i)
		if sh == nil || sh.Name == "" || len(sh.Services) < 2 {
			errs = append(errs, p.errAt(at, "shared entry %d: name and at least two services are required", i))
			continue
		}
		if seenShared[sh.Name] {
			errs = append(errs, p.errAt(at, "shared secret %q listed twice", sh.Name))
		}
		seenShared[sh.Name] = true
		for _, svc := range sh.Services {
			if _, ok := p.Services[svc]; !ok {
				errs = append(errs, p.errAt(at+".services", "shared secret %q: unknown service %q", sh.Name, svc))
			}
		}
		errs = append(errs, p.checkKeyRefs(at+".keys", sh.Keys)...)
		for j, g := range sh.Paths {
			globs = append(globs, pathOwner{g, "shared " + sh.Name, fmt.Sprintf("%s.paths.%d", at, j)})
		}
	}
	return globs, errs
}

// overlappingPaths refuses a path two owners claim: sealing would be
// ambiguous.
func (p *Policy) overlappingPaths(globs []pathOwner) (errs []error) {
	for i := range globs {
		for j := i + 1; j < len(globs); j++ {
			a, b := globs[i], globs[j]
			if a.owner != b.owner && globsOverlap(a.glob, b.glob) {
				errs = append(errs, p.errAt(b.at, "path %q of %s overlaps %q of %s", b.glob, b.owner, a.glob, a.owner))
			}
		}
	}
	return errs
}

package crypto

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"

	"kseal.dev/kseal/internal/k8sname"
	"kseal.dev/kseal/pkg/keys"
)

// What an object was sealed for (Envelope.SealedFor) turns "integrity
// check failed" into "sealed for prod/db, found as prod/app-db" when that
// is what happened: a kustomize namePrefix or namespace transformer, or a
// copy under another name, renames an object whose scope binds its name.
// The record is a hint anyone can write, so it is believed only when the
// failing section's commitment, recomputed with the section's data key
// under the recorded namespace, name or template, verifies: then the
// section was sealed for exactly that. A git writer without a key cannot
// make a tampered object read as renamed, and whoever can (anyone who
// sealed a section knows its data key) gains nothing by it: the object
// still does not open.

// sealedFor returns what Seal records for t under scope s: the namespace
// and name s binds and t's template digest. A name the API server would
// refuse is not recorded (Validate refuses it in an envelope), so nothing
// printed from a hint carries a control character.
func (s Scope) sealedFor(t Target) *SealedFor {
	ns, name := s.bound(t)
	if (ns != "" && !k8sname.IsLabel(ns)) || (name != "" && !k8sname.IsSubdomain(name)) {
		return nil
	}
	return &SealedFor{Namespace: ns, Name: name, Template: t.Template.digest()}
}

// check refuses a record no Seal writes: a name the API server would
// refuse (so nothing printed from a record carries a control character) or
// a template digest of the wrong size. A record that does not fit the
// scope (a namespace where the scope binds none) is no format error: a
// git writer who changes the scope leaves the record as Seal wrote it, and
// that is tampering (the commitment fails), not a malformed object.
// diagnose then finds nothing that verifies.
func (h *SealedFor) check() error {
	switch {
	case len(h.Template) == 0:
		return fmt.Errorf("%s: no template", truncated)
	case len(h.Template) != TemplateDigestSize:
		return fmt.Errorf("template is %d bytes, want %d", len(h.Template), TemplateDigestSize)
	case h.Namespace != "" && !k8sname.IsLabel(h.Namespace):
		return fmt.Errorf("namespace %q is not a DNS-1123 label", h.Namespace)
	case h.Name != "" && !k8sname.IsSubdomain(h.Name):
		return fmt.Errorf("name %q is not a DNS-1123 subdomain", h.Name)
	}
	return nil
}

// renamedFrom returns the namespace and name the envelope records the
// object was sealed for when they differ from what its scope binds for t,
// and whether they do.
func (e *Envelope) renamedFrom(t Target) (ns, name string, ok bool) {
	h := e.SealedFor
	if h == nil {
		return "", "", false
	}
	cns, cname := e.Scope.bound(t)
	return h.Namespace, h.Name, h.Namespace != cns || h.Name != cname
}

// diagnose explains why section sec of s failed its commitment as t, with
// the section's keys k: it recomputes the commitment under the recorded
// namespace and name, under the recorded template, and under both, and
// fills in e what verifies. Nothing is filled in when nothing verifies
// (tampering, or no record): the generic integrity error stands.
func (k *sectionKeys) diagnose(s *Sealed, sec int, t Target, e *IntegrityError) {
	h := s.Envelope.SealedFor
	if h == nil {
		return
	}
	ns, name := s.Envelope.Scope.bound(t)
	tmpl := t.Template.digest()
	hns, hname, moved := s.Envelope.renamedFrom(t)
	changed := !bytes.Equal(h.Template, tmpl)
	want := s.Envelope.Sections[sec].MAC
	verifies := func(ns, name string, tmpl []byte) bool {
		return hmac.Equal(k.macFor(s, sec, ns, name, tmpl), want)
	}
	switch {
	case moved && verifies(hns, hname, tmpl):
		e.Renamed = true
	case changed && verifies(ns, name, h.Template):
		e.TemplateChanged = true
	case moved && changed && verifies(hns, hname, h.Template):
		e.Renamed, e.TemplateChanged = true, true
	}
	if e.Renamed {
		e.SealedNamespace, e.SealedName = hns, hname
	}
}

// renamed words a rename: what the object was sealed for, what it was
// found as, and what its scope allows.
func renamed(scope Scope, ns, name string, t Target) string {
	var was, fix string
	switch scope {
	case ScopeStrict:
		was = ns + "/" + name
		fix = "scope strict binds the namespace and the name: seal it under the name it is applied as, or re-seal it with kseal rotate --scope namespace to allow renames"
	case ScopeNamespace:
		was = "namespace " + ns
		fix = "scope namespace binds the namespace: seal it in the namespace it is applied to"
	default:
		was = "the name " + name
		fix = "scope shared binds the name: seal it under the name it is applied as"
	}
	return fmt.Sprintf("sealed for %s, found as %s — renamed by a kustomize namePrefix/namespace? (%s)", was, t, fix)
}

// templateChanged words a template changed after sealing.
const templateChanged = "the template was changed after sealing: labels/annotations/type differ from what was sealed (changing them takes a key: kseal edit)"

// BindingError is a section whose wraps the key services refused for the
// object's binding (its namespace and name go into the encryption context
// or additional data of a KMS wrap) while the envelope records that the
// object was sealed for another namespace or name. The record is not
// proven (no data key was unwrapped to check it against), so the message
// says it is the envelope's word. It matches what Err matches.
type BindingError struct {
	Section         int
	Scope           Scope
	Target          Target
	SealedNamespace string // as the envelope records it
	SealedName      string
	Err             error
}

func (e *BindingError) Error() string {
	return fmt.Sprintf("the key service refused the wrap for this namespace and name, and the envelope says it was %s: %v",
		renamed(e.Scope, e.SealedNamespace, e.SealedName, e.Target), e.Err)
}

func (e *BindingError) Unwrap() error { return e.Err }

// bindingError returns err, from unwrapping section sec for t, as a
// *BindingError when a key service refused the binding and the envelope
// records another namespace or name than t's; err itself otherwise.
func (e *Envelope) bindingError(sec int, t Target, err error) error {
	if !errors.Is(err, keys.ErrWrongBinding) {
		return err
	}
	ns, name, moved := e.renamedFrom(t)
	if !moved {
		return err
	}
	return &BindingError{Section: sec, Scope: e.Scope, Target: t, SealedNamespace: ns, SealedName: name, Err: err}
}

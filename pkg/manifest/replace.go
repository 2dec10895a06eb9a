package manifest

import "errors"

// Raw returns the document's text as it was read (without its separator).
// Importers read foreign objects (a bitnami SealedSecret, a sops-encrypted
// Secret) from it; kseal's own parser leaves such documents untouched.
func (d *Doc) Raw() string { return d.raw }

// ReplaceWithSecret makes the document the plain Secret that text holds
// (one document, parsed and checked as any input), in place of what it was:
// an importer turns a foreign object into the Secret it stands for and then
// seals that. Documents inside lists cannot be replaced.
func (d *Doc) ReplaceWithSecret(text string) error {
	if d.lst != nil {
		return d.errorf("", "lists cannot be imported; put each object in a document of its own")
	}
	s, err := Parse([]byte(text))
	if err != nil {
		return d.Err(err)
	}
	if len(s.Docs) != 1 || s.Docs[0].Kind != KindSecret {
		return d.Err(errors.New("replacement is not one plain Secret"))
	}
	n := s.Docs[0]
	d.node, d.Kind, d.wide = n.node, KindSecret, n.wide
	d.changed = true
	return nil
}

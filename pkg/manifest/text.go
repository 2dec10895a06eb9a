package manifest

// Text returns a top-level document as it was read: the separator before
// it, verbatim, and its original text, so that the Text of every top-level
// document, concatenated, is the input again. A list item has no text of
// its own (""), nor has a document settled in a stream ParseEachFrom read:
// it let go of it (Settle).
func (d *Doc) Text() string {
	if d.isItem() {
		return ""
	}
	return d.sep + d.raw
}

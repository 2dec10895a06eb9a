package manifest

import (
	"strings"
	"testing"
)

// pad makes a document hold more YAML nodes than the node budget of its own
// size (two bytes a node), so that neither a tree nor the kubectl view is
// built for it unless a rule asks for one.
func pad(doc string) string {
	return doc + "pad: [" + strings.Repeat("a,", 100000) + "a]\n"
}

// TestIncompleteItemsRuleIsTheOnlyGuardOverTheBudget: a list whose items
// lack apiVersion and kind is a list of Secrets to kubectl when the list is
// a SecretList. Within the node budget the kubectl view refuses it too;
// over the budget nothing but the event rule sees it, and without the rule
// kseal would pass a plaintext Secret over as another document.
//
// Guard: `if sum.HasItems && sum.Incomplete > 0` in needsTree.
func TestIncompleteItemsRuleIsTheOnlyGuardOverTheBudget(t *testing.T) {
	const list = "apiVersion: v1\nkind: SecretList\nitems:\n- metadata: {name: x, namespace: ns}\n  stringData: {password: hunter2}\n"
	for _, tc := range []struct{ name, doc string }{
		{"within the budget", list},
		{"over the budget", pad(list)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), "1 items without apiVersion or kind") {
				t.Fatalf("got %v, want the incomplete-items rule to refuse it", err)
			}
		})
	}
	t.Run("the kubectl view does not run over the budget", func(t *testing.T) {
		d := &Doc{Index: 1, raw: pad(list)}
		b := budget{left: nodeBudget(len(d.raw))}
		if _, _, err := d.needsTree(&b); err == nil || d.kubectlCheck {
			t.Fatalf("kubectlCheck %v, err %v: the case above does not test what it claims", d.kubectlCheck, err)
		}
	})
}

// TestRepeatedKeysAreRefusedWithoutAnEventRule: the event layer used to
// refuse a key repeated at the top of any document or list item. It was
// redundant: every repeated key that makes kubectl (which keeps the last)
// read a Secret otherwise than kseal (which keeps the first) is refused by
// checkStrict, the kubectl view or the node budget, named here per case.
// A document kseal passes through untouched (a ConfigMap) may repeat keys:
// kseal reads nothing from it.
func TestRepeatedKeysAreRefusedWithoutAnEventRule(t *testing.T) {
	const (
		secret   = "{apiVersion: v1, kind: Secret, metadata: {name: x, namespace: ns}, stringData: {password: hunter2}}"
		strict   = "key given twice"
		backstop = "kubectl reads 1 Secret(s) in this document where kseal reads 0"
		budget   = "more YAML nodes than kseal reads"
	)
	for _, tc := range []struct{ name, doc, rule string }{
		{"Secret: metadata twice", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns}\nmetadata: {name: x, namespace: other}\n", strict},
		{"Secret: data twice", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns}\ndata: {a: YQ==}\ndata: {a: Yg==}\n", strict},
		{"List: items twice, a Secret in the first", "apiVersion: v1\nkind: List\nitems:\n- " + secret + "\nitems:\n- " + secret + "\n", strict},
		{"List: a Secret item repeats metadata", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: x}, metadata: {name: y}, data: {a: YQ==}}\n", strict},
		{"List: items twice, the first empty", "apiVersion: v1\nkind: List\nitems: []\nitems:\n- " + secret + "\n", backstop},
		{"List: items twice, a ConfigMap in the first", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\nitems:\n- " + secret + "\n", backstop},
		{"ConfigMap: items given as a scalar, then a list", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nitems: 5\nitems:\n- " + secret + "\n", backstop},
		{"over the budget: items twice, the first empty", pad("apiVersion: v1\nkind: List\nitems: []\nitems:\n- " + secret + "\n"), budget},
		{"over the budget: a ConfigMap, then items", pad("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nitems: 5\nitems:\n- " + secret + "\n"), budget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.rule) {
				t.Fatalf("got %v, want the rule that says %q", err, tc.rule)
			}
		})
	}
	t.Run("a ConfigMap repeating a key passes through", func(t *testing.T) {
		in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\ndata: {a: c}\n"
		s, err := Parse([]byte(in))
		if err != nil || len(s.Docs) != 1 || s.Docs[0].Kind != KindOther {
			t.Fatalf("got %v", err)
		}
		if out, _ := s.Bytes(); string(out) != in {
			t.Fatalf("not passed through byte for byte")
		}
	})
}

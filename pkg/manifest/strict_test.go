package manifest

import (
	"strings"
	"testing"
)

// TestYAMLConfusionIsRefused: documents that kseal and the API server's
// decoder (kubectl) would read differently are refused, naming where.
// Each case is an attack on `kseal decrypt | kubectl apply` by a git writer
// without a key (review finding F1): kseal would verify the first
// occurrence, kubectl apply the last or the merged one.
//
// Guard: checkStrict in classify.
func TestYAMLConfusionIsRefused(t *testing.T) {
	const enc = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n  labels: {app: orders}\n  annotations:\n    kseal.dev/envelope: '{}'\ntype: Opaque\ndata:\n  password: AAAA\n"
	const sealed = "apiVersion: kseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: prod\nspec:\n  template:\n    metadata:\n      labels: {app: orders}\n  encryptedData:\n    password: AAAA\n  envelope: {version: 2}\n"
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"second metadata moves it to another namespace", enc + "metadata:\n  name: db\n  namespace: attacker\n", "metadata: key given twice"},
		{"second data replaces a value", enc + "data:\n  password: QUFB\n", "data: key given twice"},
		{"second kind turns it into a ConfigMap", enc + "kind: ConfigMap\n", "kind appears twice"},
		{"second type", enc + "type: kubernetes.io/service-account-token\n", "type: key given twice"},
		{"label after a duplicate escapes the template", strings.Replace(enc, "labels: {app: orders}", "labels: {app: orders, app: orders, injected: x}", 1), "metadata.labels.app: key given twice"},
		{"merge key adds stringData", enc + "<<: {stringData: {password: x}, immutable: true}\n", "<<: merge keys"},
		{"merge key in metadata", strings.Replace(enc, "  name: db\n", "  name: db\n  <<: {namespace: attacker}\n", 1), "metadata.<<: merge keys"},
		{"anchor and alias", strings.Replace(enc, "labels: {app: orders}", "labels: &l {app: orders}", 1) + "extra: *l\n", "anchors and aliases"},
		{"a List with items given twice", "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSuffix(enc, "\n"), "\n", "\n  ") + "\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: other}, stringData: {a: b}}\n", "items: key given twice"},
		{"SealedSecret: second template", sealed + "  template:\n    type: kubernetes.io/service-account-token\n", "spec.template: key given twice"},
		{"SealedSecret: second encryptedData", strings.Replace(sealed, "  envelope:", "  encryptedData:\n    password: QUFB\n  envelope:", 1), "spec.encryptedData: key given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "doc 1: ") {
				t.Errorf("error does not name the document: %v", err)
			}
		})
	}
	t.Run("a ConfigMap that kubectl reads as a Secret", func(t *testing.T) {
		for _, doc := range []string{
			"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  metadata: {name: x}\n  <<: {kind: Secret}\n  stringData: {password: hunter2}\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nkind: Secret\nstringData: {password: hunter2}\n",
			"apiVersion: v1\nmetadata: {name: x}\n<<: {kind: Secret}\nstringData: {password: hunter2}\n",
		} {
			if _, err := Parse([]byte(doc)); err == nil {
				t.Errorf("accepted %q", doc)
			}
		}
	})
	t.Run("other documents are left alone", func(t *testing.T) {
		cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: x}\ndata: {a: b}\nother: *m\n"
		if _, err := Parse([]byte(cm)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestParseErrorsDoNotEchoValues: a value typed unquoted after '*' or '&'
// (or otherwise quoted by the parser) never appears in the error, which
// still names the document and the line (review finding F5).
//
// Guard: redactQuoted.
func TestParseErrorsDoNotEchoValues(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: *S3cret-pw\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: \"S3cret-pw\\q\"\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: !S3cret-pw x\n  a: [\n",
	} {
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Fatalf("parsed %q", doc)
		}
		if strings.Contains(err.Error(), "S3cret") {
			t.Errorf("error echoes the value: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "doc 1: ") {
			t.Errorf("error does not say where: %v", err)
		}
	}
}

// TestWhatKubectlReadsAsASecretIsSeen: documents that kubectl (apimachinery)
// reads as Secrets are either refused or seen as Secrets, never passed over
// as "other documents" that seal and policy check leave alone (review of
// the CLI, F1 and F2). The kubectl view (checkKubectlView) would refuse
// every one of them on its own, so each case also names the rule that must
// handle it first: removing that rule changes the outcome and fails the
// case, and the backstop has a test of its own (TestKubectlViewIsTheBackstop).
//
// Guards, one per case: normAPIVersion, the summarizer's Disguised, the
// incomplete-items rule, lists by items whatever the kind, the rule on
// aliases in lists, isSeparator; and checkKubectlView for a repeated
// items key.
func TestWhatKubectlReadsAsASecretIsSeen(t *testing.T) {
	const body = "metadata: {name: x, namespace: ns}\nstringData: {password: hunter2}\n"
	const (
		seen      = "" // no error: kseal sees the Secret
		disguised = "written with a tag or an alias"
		aliases   = "anchors and aliases are not supported in lists"
	)
	for _, tc := range []struct{ name, doc, rule string }{
		{"apiVersion /v1", "apiVersion: /v1\nkind: Secret\n" + body, seen},
		{"kind as !!binary", "apiVersion: v1\nkind: !!binary U2VjcmV0\n" + body, disguised},
		{"kind as an alias", "apiVersion: v1\nmetadata: {name: x, labels: {k: &k Secret}}\nkind: *k\nstringData: {password: hunter2}\n", disguised},
		{"key as !!binary", "apiVersion: v1\n!!binary a2luZA==: Secret\n" + body, disguised},
		{"SecretList of bare items", "apiVersion: v1\nkind: SecretList\nitems:\n- metadata: {name: x}\n  stringData: {password: hunter2}\n", "items without apiVersion or kind"},
		{"ConfigMap with items", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: x}\n  stringData: {password: hunter2}\n", seen},
		{"an alias item", "apiVersion: v1\nkind: List\nx: &s\n  apiVersion: v1\n  kind: Secret\n  metadata: {name: a1}\n  stringData: {password: hunter2}\nitems:\n- *s\n", aliases},
		{"items given as an alias", "apiVersion: v1\nkind: ConfigMap\nx: &s [{apiVersion: v1, kind: Secret, metadata: {name: a1}, stringData: {password: hunter2}}]\nitems: *s\n", aliases},
		{"items given twice, the first empty", "apiVersion: v1\nkind: List\nitems: []\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: c1}, stringData: {password: hunter2}}\n", "kubectl reads 1 Secret(s) in this document where kseal reads 0"},
		{"separator with a no-break space", "# c\n---\u00a0\n{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"x\"}, \"stringData\": {\"password\": \"hunter2\"}}\n", seen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.doc))
			if tc.rule != seen {
				if err == nil || !strings.Contains(err.Error(), tc.rule) {
					t.Fatalf("got %v, want the rule that says %q", err, tc.rule)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused (%v); want it seen as a Secret", err)
			}
			for _, d := range s.Docs {
				for _, it := range append([]*Doc{d}, d.itemDocs()...) {
					if it.Kind == KindSecret {
						return
					}
				}
			}
			t.Fatalf("kubectl applies a Secret from this, and kseal passed it over as another document")
		})
	}
}

// TestASecretWithItemsIsRefused: kubectl applies the items of a Secret that
// has items and ignores the Secret; sealing one and not the other would
// leave plaintext in git.
//
// Guard: the kind check in expandList.
func TestASecretWithItemsIsRefused(t *testing.T) {
	doc := "apiVersion: v1\nkind: Secret\nmetadata: {name: outer}\nstringData: {password: hunter2}\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: x}\n  stringData: {password: hunter2}\n"
	if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), "is a list to kubectl") {
		t.Fatalf("got %v", err)
	}
}

// TestItemsInOtherYAMLAreLeftAlone: a file that is no manifest (no kind: a
// menu, Helm values) may hold a top-level items list of anything.
func TestItemsInOtherYAMLAreLeftAlone(t *testing.T) {
	if _, err := Parse([]byte("items:\n- {name: home, url: /}\n- {name: docs, url: /docs}\n")); err != nil {
		t.Fatal(err)
	}
}

// TestKubectlViewIsTheBackstop: whatever spelling slips past the rules
// above, a document from which kubectl would apply more Secrets than kseal
// sees is refused.
//
// Guard: checkKubectlView.
func TestKubectlViewIsTheBackstop(t *testing.T) {
	d := &Doc{Index: 1, raw: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: x}, stringData: {password: hunter2}}\n"}
	if err := d.checkKubectlView(); err == nil || !strings.Contains(err.Error(), "kubectl reads 1 Secret(s) in this document where kseal reads 0") {
		t.Fatalf("got %v", err)
	}
	if err := (&Doc{Index: 1, raw: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"}).checkKubectlView(); err != nil {
		t.Fatal(err)
	}
	s, err := Parse([]byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: x}, stringData: {password: hunter2}}\n"))
	if err != nil || len(s.Docs) != 2 {
		t.Fatalf("a plain List of a Secret: %v", err)
	}
}

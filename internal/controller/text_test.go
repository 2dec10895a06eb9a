package controller_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
	"kseal.dev/kseal/pkg/crypto"
	"kseal.dev/kseal/pkg/keys"
	"kseal.dev/kseal/pkg/keys/agekey"
)

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Secret db is up to date", "Secret db is up to date"},
		{"unicode letters stay", "clé für 秘密", "clé für 秘密"},
		{"newline", "a\nb", `a\nb`},
		{"escape sequence", "\x1b[31mred", `\x1b[31mred`},
		{"carriage return and tab", "a\rb\tc", `a\rb\tc`},
		{"bidi override", "abc\u202edef", `abc\u202edef`},
		{"invalid utf-8", "a\xffb", `a\xffb`},
		{"nul and del", "a\x00b\x7f", `a\x00b\x7f`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := controller.Printable(tc.in); got != tc.want {
				t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestAPIServerRefusesBadNames: the API server accepts a SealedSecret only
// with a DNS-1123 subdomain as name (custom resources are validated like
// built-in ones) and a namespace only with a DNS-1123 label as name, so
// every SealedSecret the controller reads is named as a Secret must be.
func TestAPIServerRefusesBadNames(t *testing.T) {
	needsAPIServer(t)
	ctx := t.Context()
	ns := fmt.Sprintf("names-%d", nsCounter.Add(1))
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	id, _ := agekey.Generate(false)
	for _, tc := range []struct {
		name, objName string
		ok            bool
	}{
		{"subdomain with dots", "db.example-1", true},
		{"253 characters", strings.Repeat("a", 253), true},
		{"kubectl option", "--kubeconfig=k8s/tools.yaml", false},
		{"leading dash", "-db", false},
		{"upper case", "DB", false},
		{"underscore", "db_1", false},
		{"newline", "db\nx", false},
		{"escape", "db\x1b[31m", false},
		{"254 characters", strings.Repeat("a", 254), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := sealed(t, ns, "placeholder", map[string]string{"k": "v"}, "", id.Recipient())
			ss.Name = tc.objName
			err := k8s.Create(ctx, ss)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("valid name refused: %v", err)
			case !tc.ok && !apierrors.IsInvalid(err):
				t.Fatalf("name %q: got %v, want Invalid", tc.objName, err)
			}
		})
	}
	for _, bad := range []string{"a.b", "Ns", "ns_1", strings.Repeat("n", 64), "ns\n"} {
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: bad}}); !apierrors.IsInvalid(err) {
			t.Errorf("namespace %q: got %v, want Invalid", bad, err)
		}
	}
}

// TestStatusEscapesInput: text from the object (a wrap's type and key ID,
// a template annotation key, a name in an existing Secret's owner
// reference) reaches the Ready and Stalled messages and the event only
// escaped: no newline or terminal escape sequence gets through.
//
// Guard: printable in setStatus.
func TestStatusEscapesInput(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	const evil = "\n\x1b[31mred"
	stranger, _ := agekey.Generate(false)
	rc, err := keys.ParseRecipient(stranger.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	wraps := func(name string) *ksealv1.SealedSecret {
		s, err := crypto.Seal(ctx, rand.Reader, crypto.ScopeStrict, crypto.Target{Namespace: f.ns, Name: name}, map[string][]byte{"k": []byte("v")}, []keys.Recipient{rc})
		if err != nil {
			t.Fatal(err)
		}
		ss := rawSS(t, f.ns, name, s)
		w := &ss.Spec.Envelope.Sections[0].Recipients[0]
		w.Type, w.KeyID = "type"+evil, "key"+evil
		return ss
	}
	template := func(name string) *ksealv1.SealedSecret {
		ss := sealed(t, f.ns, name, map[string]string{"k": "v"}, "", f.recipient())
		ss.Spec.Template.Metadata.Annotations = map[string]string{"kubernetes.io/service-account.name" + evil: "x"}
		return ss
	}
	owner := func(name string) *ksealv1.SealedSecret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Name: "web" + evil, UID: "0000-1", Controller: new(true)}}}}
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		return sealed(t, f.ns, name, map[string]string{"k": "v"}, "", f.recipient())
	}
	for _, tc := range []struct {
		name, reason string
		make         func(string) *ksealv1.SealedSecret
	}{
		{"wrap-type-and-key-id", ksealv1.ReasonNoMatchingKey, wraps},
		{"template-annotation-key", ksealv1.ReasonTemplateRefused, template},
		{"owner-reference-name", ksealv1.ReasonSecretNotOwned, owner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := k8s.Create(ctx, tc.make(tc.name)); err != nil {
				t.Fatal(err)
			}
			c := waitReason(t, f.ns, tc.name, tc.reason)
			var ss ksealv1.SealedSecret
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: tc.name}, &ss); err != nil {
				t.Fatal(err)
			}
			texts := map[string]string{"Ready message": c.Message, "event": waitEvent(t, f.ns, "SealedSecret", tc.name, tc.reason)}
			if st := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionStalled); st != nil {
				texts["Stalled message"] = st.Message
			}
			for what, text := range texts {
				if strings.ContainsAny(text, "\n\x1b") {
					t.Errorf("%s holds raw control characters: %q", what, text)
				}
				if !strings.Contains(text, `\x1b[31mred`) {
					t.Errorf("%s %q does not show the input escaped", what, text)
				}
			}
		})
	}
}

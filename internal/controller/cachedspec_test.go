package controller_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/controller"
)

// TestSettledObjectsCachedWithoutCiphertext checks the SealedSecret cache
// transform: an unsealed object is kept without its ciphertext, but with
// what the controller decides on without decrypting; the ciphertext read
// back to decrypt again must be the spec the cache hashed; and the marker
// of a stripped copy cannot come from the API server.
func TestSettledObjectsCachedWithoutCiphertext(t *testing.T) {
	f := newFixture(t, time.Hour)
	ctx := t.Context()
	ss := sealed(t, f.ns, "db", map[string]string{"password": "p1", "user": "u1"}, "", f.recipient())
	ss.Annotations = map[string]string{"team": "payments", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
	if err := k8s.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	waitReason(t, f.ns, "db", ksealv1.ReasonUnsealed)
	var full ksealv1.SealedSecret
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ss), &full); err != nil {
		t.Fatal(err)
	}

	got, _ := controller.StripSealedSecret(full.DeepCopy())
	cached := got.(*ksealv1.SealedSecret)
	if cached.Spec.EncryptedData != nil {
		t.Errorf("cached copy keeps encryptedData: %v", cached.Spec.EncryptedData)
	}
	for i, sec := range cached.Spec.Envelope.Sections {
		if sec.MAC != "" || sec.Removed != nil {
			t.Errorf("cached copy keeps section %d's MAC or removals", i)
		}
		for j, w := range sec.Recipients {
			want := full.Spec.Envelope.Sections[i].Recipients[j]
			if w.Data != "" || w.KeyID != want.KeyID || w.Type != want.Type {
				t.Errorf("section %d wrap %d cached as %+v, want type %q and key ID %q without data", i, j, w, want.Type, want.KeyID)
			}
		}
	}
	if !equality.Semantic.DeepEqual(cached.Spec.Template, full.Spec.Template) || cached.Spec.Envelope.Scope != full.Spec.Envelope.Scope {
		t.Errorf("cached copy lost the template or the scope")
	}
	if cached.Annotations["team"] != "payments" || cached.Annotations[controller.AnnotationCachedSpec] == "" {
		t.Errorf("cached annotations %v: want the object's and the spec hash", cached.Annotations)
	}
	if _, ok := cached.Annotations["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("cached copy keeps kubectl's last-applied copy")
	}
	if a, b := jsonSize(t, &full), jsonSize(t, cached); b*2 > a {
		t.Errorf("cached copy is %d bytes of JSON against %d in full: the ciphertext is most of it", b, a)
	}

	// An informer may transform an object again (a relist): the result
	// must not change, above all not the hash.
	again, _ := controller.StripSealedSecret(cached.DeepCopy())
	if !equality.Semantic.DeepEqual(again, cached) {
		t.Errorf("transforming twice changes the cached copy:\n%v\n%v", again.(*ksealv1.SealedSecret).Annotations, cached.Annotations)
	}

	// Not settled (never unsealed, or a new generation): kept whole.
	unsettled := full.DeepCopy()
	unsettled.Generation++
	got, _ = controller.StripSealedSecret(unsettled)
	if u := got.(*ksealv1.SealedSecret); u.Spec.EncryptedData == nil || u.Annotations[controller.AnnotationCachedSpec] != "" {
		t.Error("an object not unsealed at its generation lost its ciphertext in the cache")
	}

	t.Run("the ciphertext read back is the one hashed", func(t *testing.T) {
		if reason, err := controller.FullSpec(ctx, k8s, cached); err != nil || reason != "" {
			t.Fatalf("reading back the spec of an unchanged object: %s %v", reason, err)
		}
		// The whole SHA-256 ties them, not the half the Secret's
		// sealed-hash annotation shows.
		digest := cached.Annotations[controller.AnnotationCachedSpec]
		if len(digest) != len("sha256:")+64 {
			t.Fatalf("cached digest %q: want sha256: and 64 hex digits", digest)
		}
		other := cached.DeepCopy()
		other.Annotations[controller.AnnotationCachedSpec] = digest[:len(digest)-32] + strings.Repeat("0", 32)
		if _, err := controller.FullSpec(ctx, k8s, other); !errors.Is(err, controller.ErrSpecChanged) {
			t.Errorf("a spec whose digest matches only in its first half was taken: %v", err)
		}
		stale := cached.DeepCopy()
		stale.Generation--
		if _, err := controller.FullSpec(ctx, k8s, stale); !errors.Is(err, controller.ErrSpecChanged) {
			t.Errorf("the spec of another generation was taken: %v", err)
		}
		moved := cached.DeepCopy()
		moved.UID = "00000000-0000-0000-0000-000000000000"
		if _, err := controller.FullSpec(ctx, k8s, moved); !errors.Is(err, controller.ErrSpecChanged) {
			t.Errorf("another object of the same name was taken: %v", err)
		}
	})

	t.Run("the API server refuses the marker", func(t *testing.T) {
		forged := sealed(t, f.ns, "forged", map[string]string{"password": "p1"}, "", f.recipient())
		forged.Annotations = map[string]string{controller.AnnotationCachedSpec: full.Annotations[controller.AnnotationCachedSpec]}
		if err := k8s.Create(ctx, forged); !apierrors.IsInvalid(err) {
			t.Fatalf("creating a SealedSecret with the cache's marker annotation: %v, want Invalid", err)
		}
	})
}

func jsonSize(t *testing.T, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

package controller_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/internal/envtestutil"
	"kseal.dev/kseal/internal/kmstest"
	"kseal.dev/kseal/pkg/keys/agekey"
	"kseal.dev/kseal/pkg/keys/gcpkms"
)

// kstatusOf reads ns/name from the API server and computes its status with
// the kstatus library Flux and kpt use to decide whether an applied object
// is healthy, and its Argo CD health with config/argocd's Lua check.
func kstatusOf(ctx context.Context, ns, name string) (*status.Result, argoHS, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ksealv1.GroupVersion.WithKind("SealedSecret"))
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		return nil, argoHS{}, err
	}
	res, err := status.Compute(u)
	if err != nil {
		return nil, argoHS{}, err
	}
	argo, err := argoHealth(u)
	return res, argo, err
}

// argoStatus is the Argo CD health each kstatus status must map to.
var argoStatus = map[status.Status]string{
	status.CurrentStatus:    "Healthy",
	status.FailedStatus:     "Degraded",
	status.InProgressStatus: "Progressing",
}

// argoHS is the health a Lua health check returns: hs.status, hs.message.
type argoHS struct{ status, message string }

// argoHealth runs config/argocd/sealedsecret-health.lua on u in gopher-lua,
// the interpreter Argo CD runs health checks in, with obj set as Argo CD
// sets it (the object's JSON as Lua tables), and returns hs.
func argoHealth(u *unstructured.Unstructured) (argoHS, error) {
	script, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "config", "argocd", "sealedsecret-health.lua"))
	if err != nil {
		return argoHS{}, err
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	lua.OpenBase(L)
	L.SetGlobal("obj", toLua(L, u.Object))
	if err := L.DoString(string(script)); err != nil {
		return argoHS{}, fmt.Errorf("sealedsecret-health.lua: %w", err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return argoHS{}, fmt.Errorf("sealedsecret-health.lua returned %s", L.Get(-1).Type())
	}
	return argoHS{hs.RawGetString("status").String(), hs.RawGetString("message").String()}, nil
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	}
	return lua.LNil
}

// waitKStatus waits until kstatus reads want for ns/name, and checks that
// Argo CD's health check agrees: the same status, and for Degraded the
// controller's own reason and message, as docs/argocd.md says.
func waitKStatus(t *testing.T, ns, name string, want status.Status) *status.Result {
	t.Helper()
	var res *status.Result
	eventually(t, fmt.Sprintf("kstatus %s for %s/%s", want, ns, name), func() (err error) {
		var argo argoHS
		if res, argo, err = kstatusOf(t.Context(), ns, name); err != nil {
			return err
		}
		if res.Status != want {
			return fmt.Errorf("kstatus %s: %s", res.Status, res.Message)
		}
		if argo.status != argoStatus[want] {
			return fmt.Errorf("Argo CD health %s, want %s with kstatus %s", argo.status, argoStatus[want], want)
		}
		if want == status.FailedStatus {
			c := ready(t, ns, name)
			if c == nil || argo.message != c.Reason+": "+c.Message {
				return fmt.Errorf("Argo CD message %q, want the Ready condition's reason and message (%+v)", argo.message, c)
			}
		}
		return nil
	})
	return res
}

// TestHealthReadsAsKStatus: GitOps tools see an unsealed object as Current,
// one that can never unseal as Failed (a lone Ready=False reads InProgress
// for ever, so a rollout would wait for its timeout instead of failing), one
// waiting out a transient outage as InProgress — and it turns Current once
// the outage ends — and one the controller has not handled yet as
// InProgress (the CRD defaults status.observedGeneration to -1).
func TestHealthReadsAsKStatus(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	ctx := t.Context()
	other, err := agekey.Generate(true)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("unsealed is Current", func(t *testing.T) {
		if err := k8s.Create(ctx, sealed(t, f.ns, "good", map[string]string{"k": "v"}, "", rcp)); err != nil {
			t.Fatal(err)
		}
		waitSecret(t, f.ns, "good", map[string]string{"k": "v"})
		waitKStatus(t, f.ns, "good", status.CurrentStatus)
	})

	terminal := []struct {
		name, reason string
		ss           func() *ksealv1.SealedSecret
	}{
		{"tampered", ksealv1.ReasonIntegrityFailed, func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "tampered", map[string]string{"k": "v"}, "", rcp)
			b, _ := base64.StdEncoding.DecodeString(string(ss.Spec.EncryptedData["k"]))
			b[len(b)-1] ^= 1
			ss.Spec.EncryptedData["k"] = ksealv1.Base64(base64.StdEncoding.EncodeToString(b))
			return ss
		}},
		{"foreign", ksealv1.ReasonNoMatchingKey, func() *ksealv1.SealedSecret {
			return sealed(t, f.ns, "foreign", map[string]string{"k": "v"}, "", other.Recipient())
		}},
		{"truncated", ksealv1.ReasonInvalid, func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "truncated", map[string]string{"k": "v"}, "", rcp)
			ss.Spec.EncryptedData["k"] = ss.Spec.EncryptedData["k"][:12]
			return ss
		}},
		{"gcp-denied", ksealv1.ReasonKeyAccessDenied, func() *ksealv1.SealedSecret {
			ss := sealed(t, f.ns, "gcp-denied", map[string]string{"k": "v"}, "", gcpkms.Prefix+gcpKey)
			gcpKMS.SetFault(gcpKey, kmstest.Fault{Deny: true})
			t.Cleanup(func() { gcpKMS.SetFault(gcpKey, kmstest.Fault{}) })
			return ss
		}},
		{"replicated", ksealv1.ReasonTemplateRefused, func() *ksealv1.SealedSecret {
			return sealed(t, f.ns, "replicated", map[string]string{"k": "v"}, "  annotations: {replicator.v1.mittwald.de/replicate-to: \"*\"}\n", rcp)
		}},
		{"not-owned", ksealv1.ReasonSecretNotOwned, func() *ksealv1.SealedSecret {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "not-owned"}, StringData: map[string]string{"k": "theirs"}}
			if err := k8s.Create(ctx, s); err != nil {
				t.Fatal(err)
			}
			return sealed(t, f.ns, "not-owned", map[string]string{"k": "v"}, "", rcp)
		}},
	}
	for _, tc := range terminal {
		t.Run(tc.reason+" is Failed", func(t *testing.T) {
			if err := k8s.Create(ctx, tc.ss()); err != nil {
				t.Fatal(err)
			}
			c := waitReason(t, f.ns, tc.name, tc.reason)
			res := waitKStatus(t, f.ns, tc.name, status.FailedStatus)
			if res.Message != c.Message {
				t.Errorf("kstatus message %q, want the Ready message %q", res.Message, c.Message)
			}
		})
	}

	t.Run("an outage is InProgress, then Current", func(t *testing.T) {
		ss := sealed(t, f.ns, "outage", map[string]string{"k": "v"}, "", awsKey)
		awsKMS.SetFault(awsKey, kmstest.Fault{Down: true})
		defer awsKMS.SetFault(awsKey, kmstest.Fault{})
		if err := k8s.Create(ctx, ss); err != nil {
			t.Fatal(err)
		}
		waitReason(t, f.ns, "outage", ksealv1.ReasonKeyServiceFailed)
		waitKStatus(t, f.ns, "outage", status.InProgressStatus)
		// kstatus reads Ready=False alone as InProgress too; Flux's own
		// checks want Reconciling while the controller retries.
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "outage"}, ss); err != nil {
			t.Fatal(err)
		}
		if c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue || c.Reason != ksealv1.ReasonKeyServiceFailed {
			t.Errorf("Reconciling during the outage: %+v", c)
		}
		if c := meta.FindStatusCondition(ss.Status.Conditions, ksealv1.ConditionStalled); c != nil {
			t.Errorf("a transient outage is Stalled: %+v", c)
		}
		awsKMS.SetFault(awsKey, kmstest.Fault{})
		waitSecret(t, f.ns, "outage", map[string]string{"k": "v"})
		waitKStatus(t, f.ns, "outage", status.CurrentStatus)
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "outage"}, ss); err != nil {
			t.Fatal(err)
		}
		for _, c := range ss.Status.Conditions {
			if c.Type == ksealv1.ConditionReconciling || c.Type == ksealv1.ConditionStalled {
				t.Errorf("a Ready object keeps %s: %+v", c.Type, c)
			}
		}
	})

	t.Run("an object the controller has not seen yet is InProgress", func(t *testing.T) {
		// Namespace not watched: the object stays as applied.
		ns := f.ns + "-unwatched"
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Create(ctx, sealed(t, ns, "fresh", map[string]string{"k": "v"}, "", rcp)); err != nil {
			t.Fatal(err)
		}
		res, argo, err := kstatusOf(ctx, ns, "fresh")
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != status.InProgressStatus || argo.status != "Progressing" {
			t.Errorf("kstatus %s (%s), Argo CD %s; want InProgress, Progressing", res.Status, res.Message, argo.status)
		}
	})
}

// TestPolicyDenialReadsFailed: a SealedSecret the policy does not grant
// cannot unseal until the policy changes: Stalled, kstatus Failed.
func TestPolicyDenialReadsFailed(t *testing.T) {
	needsAPIServer(t)
	f := newFixture(t, time.Hour)
	rcp := f.recipient()
	f.halt()
	f.require = true
	f.start(time.Hour)
	if err := k8s.Create(t.Context(), sealed(t, f.ns, "denied", map[string]string{"k": "v"}, "", rcp)); err != nil {
		t.Fatal(err)
	}
	waitReason(t, f.ns, "denied", ksealv1.ReasonPolicyDenied)
	waitKStatus(t, f.ns, "denied", status.FailedStatus)
}

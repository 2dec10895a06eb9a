package controller_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
)

// TestWatchNamespaces: one controller with --watch-namespaces unseals in
// each namespace listed, including one created after it started, and
// sends not a single request about a namespace it was not given (neither
// list, watch, read nor write: its SealedSecret keeps no status and gets no
// Secret).
func TestWatchNamespaces(t *testing.T) {
	needsAPIServer(t)
	n := nsCounter.Add(1)
	second, late, other := fmt.Sprintf("second-%d", n), fmt.Sprintf("late-%d", n), fmt.Sprintf("unwatched-%d", n)
	log := &requestLog{n: map[string]int{}, ns: other}
	f := &fixture{t: t, ns: fmt.Sprintf("app-%d", n), ctrlNS: fmt.Sprintf("kseal-%d", n), extraNS: []string{second, late}, wrap: log.wrap}
	for _, ns := range []string{f.ns, f.ctrlNS, second, other} {
		if err := k8s.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	f.start(time.Hour)
	t.Cleanup(f.halt)
	rcp := f.recipient()
	ctx := t.Context()
	want := map[string]string{"k": "v"}

	for _, ns := range []string{f.ns, second, other} {
		if err := k8s.Create(ctx, sealed(t, ns, "db", want, "", rcp)); err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range []string{f.ns, second} {
		waitReason(t, ns, "db", ksealv1.ReasonUnsealed)
		waitSecret(t, ns, "db", want)
	}

	// A namespace listed before it exists is watched once it does.
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: late}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, sealed(t, late, "db", want, "", rcp)); err != nil {
		t.Fatal(err)
	}
	waitReason(t, late, "db", ksealv1.ReasonUnsealed)
	waitSecret(t, late, "db", want)

	if got := log.take(); len(got) != 0 {
		t.Errorf("requests about the unwatched namespace %s: %v", other, got)
	}
	var ss ksealv1.SealedSecret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: other, Name: "db"}, &ss); err != nil {
		t.Fatal(err)
	}
	if len(ss.Status.Conditions) != 0 {
		t.Errorf("the SealedSecret in the unwatched namespace has a status: %+v", ss.Status)
	}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: other, Name: "db"}, &corev1.Secret{}); err == nil {
		t.Error("a Secret was written in the unwatched namespace")
	}
}

package controller

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	ksealv1 "kseal.dev/kseal/api/v1alpha1"
	"kseal.dev/kseal/pkg/policy"
)

// policyState says which policy is in force and why.
type policyState string

const (
	policyNone    policyState = "none"    // no policy configured: every namespace may use every key
	policyCurrent policyState = "current" // the ConfigMap's policy
	policyInvalid policyState = "invalid" // the ConfigMap is invalid: the last valid policy, or deny all
	policyMissing policyState = "missing" // the ConfigMap is gone: the last valid policy, or deny all
)

// policyView is the policy a reconcile enforces.
type policyView struct {
	pol     *policy.Policy // in force; nil with policyNone or when failing closed
	state   policyState
	problem string // why the ConfigMap's content is not in force
}

// failClosed reports whether every unseal is denied: a policy is expected
// but no valid one is known.
func (v policyView) failClosed() bool { return v.pol == nil && v.state != policyNone }

// mayRevoke reports whether a denial may delete Secrets: only a valid
// policy that is the ConfigMap's current content denies explicitly.
func (v policyView) mayRevoke() bool { return v.pol != nil && v.state == policyCurrent }

// policyStore parses the policy ConfigMap once per resourceVersion, keeps
// the last valid policy in force when the ConfigMap turns invalid or
// disappears, and keeps a copy of it in PolicyAppliedConfigMap for the next
// controller process.
type policyStore struct {
	client    client.Client // the cache: only the controller's namespace
	namespace string
	require   bool // --require-policy: no policy at all denies every unseal
	recorder  events.EventRecorder

	mu        sync.Mutex
	version   string         // resourceVersion of the ConfigMap last parsed
	parseErr  error          // its error, if invalid
	valid     *policy.Policy // the last valid policy
	validText string
	copied    string // text last written to the applied copy
	copyVer   string // resourceVersion of the applied copy last parsed
	copyPol   *policy.Policy
	reported  policyView // last state logged and announced
}

// current returns the policy to enforce. An error is transient (the API).
func (s *policyStore) current(ctx context.Context) (policyView, error) {
	var cm corev1.ConfigMap
	err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: PolicyConfigMap}, &cm)
	if err != nil && !apierrors.IsNotFound(err) {
		return policyView{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var v policyView
	if apierrors.IsNotFound(err) {
		s.version, s.parseErr = "", nil
		last, err := s.lastValid(ctx, true)
		if err != nil {
			return policyView{}, err
		}
		switch {
		case last != nil:
			v = policyView{pol: last, state: policyMissing, problem: fmt.Sprintf("policy ConfigMap %s is missing; the last valid policy stays in force (delete %s too and restart the controller to remove the policy)", s.name(), PolicyAppliedConfigMap)}
		case s.require:
			v = policyView{state: policyMissing, problem: fmt.Sprintf("policy ConfigMap %s is missing and --require-policy is set: every unseal is denied", s.name())}
		default:
			v = policyView{state: policyNone}
		}
	} else {
		if cm.ResourceVersion != s.version {
			s.version = cm.ResourceVersion
			text := cm.Data[PolicyKey]
			pol, perr := policy.ParseInCluster([]byte(text), s.name())
			s.parseErr = perr
			if perr == nil {
				s.valid, s.validText = pol, text
			}
		}
		if s.parseErr == nil {
			v = policyView{pol: s.valid, state: policyCurrent}
			s.keepCopy(ctx)
		} else {
			last, err := s.lastValid(ctx, false)
			if err != nil {
				return policyView{}, err
			}
			v = policyView{pol: last, state: policyInvalid, problem: fmt.Sprintf("policy ConfigMap %s (resourceVersion %s) is invalid, so the last valid policy stays in force: %v", s.name(), s.version, s.parseErr)}
			if last == nil {
				v.problem = fmt.Sprintf("policy ConfigMap %s (resourceVersion %s) is invalid and no valid policy is known, so every unseal is denied: %v", s.name(), s.version, s.parseErr)
			}
		}
	}
	s.report(ctx, v)
	return v, nil
}

func (s *policyStore) name() string { return s.namespace + "/" + PolicyConfigMap }

// lastValid returns the last valid policy: the kept copy, else the one in
// memory. preferCopy reads the copy first, so that deleting both
// ConfigMaps (and restarting) removes the policy on purpose.
func (s *policyStore) lastValid(ctx context.Context, preferCopy bool) (*policy.Policy, error) {
	if !preferCopy && s.valid != nil {
		return s.valid, nil
	}
	var cm corev1.ConfigMap
	err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: PolicyAppliedConfigMap}, &cm)
	switch {
	case apierrors.IsNotFound(err):
		return s.valid, nil
	case err != nil:
		return nil, err
	}
	if cm.ResourceVersion != s.copyVer {
		s.copyVer = cm.ResourceVersion
		s.copyPol, _ = policy.ParseInCluster([]byte(cm.Data[PolicyKey]), s.namespace+"/"+PolicyAppliedConfigMap)
		if s.copyPol != nil {
			s.copied = cm.Data[PolicyKey]
		}
	}
	if s.copyPol == nil {
		return s.valid, nil
	}
	return s.copyPol, nil
}

// keepCopy stores the valid policy in PolicyAppliedConfigMap when the copy
// differs. A failure is logged and retried on the next call.
func (s *policyStore) keepCopy(ctx context.Context) {
	if s.copied == s.validText {
		return
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: PolicyAppliedConfigMap}}
	_, err := controllerutil.CreateOrUpdate(ctx, s.client, cm, func() error {
		if cm.Labels == nil {
			cm.Labels = map[string]string{}
		}
		cm.Labels[LabelManaged] = "policy-copy"
		cm.Data = map[string]string{PolicyKey: s.validText}
		return nil
	})
	if err != nil {
		log.FromContext(ctx).Error(err, "keeping a copy of the valid policy; retrying on the next reconcile", "configMap", s.namespace+"/"+PolicyAppliedConfigMap)
		return
	}
	s.copied = s.validText
}

// report logs, announces (event on the policy ConfigMap) and exports a
// change of policy state, once per change.
func (s *policyStore) report(ctx context.Context, v policyView) {
	for _, st := range []policyState{policyNone, policyCurrent, policyInvalid, policyMissing} {
		val := 0.0
		if st == v.state {
			val = 1
		}
		policyStateGauge.WithLabelValues(string(st)).Set(val)
	}
	if v.state == s.reported.state && v.problem == s.reported.problem && v.pol == s.reported.pol {
		return
	}
	s.reported = v
	l := log.FromContext(ctx).WithValues("configMap", s.name())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: PolicyConfigMap}}
	switch v.state {
	case policyNone:
		l.Info("no policy configured: every namespace may use every key")
	case policyCurrent:
		l.Info("policy loaded", "resourceVersion", s.version, "services", len(v.pol.Services))
		if s.recorder != nil {
			s.recorder.Eventf(cm, nil, corev1.EventTypeNormal, ksealv1.ReasonPolicyLoaded, "LoadPolicy", "policy resourceVersion %s is in force", s.version)
		}
	default:
		reason := ksealv1.ReasonPolicyInvalid
		if v.state == policyMissing {
			reason = ksealv1.ReasonPolicyMissing
		}
		l.Error(nil, v.problem, "state", v.state)
		if s.recorder != nil {
			s.recorder.Eventf(cm, nil, corev1.EventTypeWarning, reason, "LoadPolicy", "%s", v.problem)
		}
	}
}

// condition is the PolicyCurrent condition of v, or nil without a policy
// (or when the reconcile stopped before reading it).
func (v policyView) condition(generation int64) *metav1.Condition {
	switch v.state {
	case policyNone, "":
		return nil
	case policyCurrent:
		return &metav1.Condition{Type: ksealv1.ConditionPolicy, Status: metav1.ConditionTrue, Reason: ksealv1.ReasonPolicyLoaded, Message: "the policy ConfigMap's current content is in force", ObservedGeneration: generation}
	case policyInvalid:
		return &metav1.Condition{Type: ksealv1.ConditionPolicy, Status: metav1.ConditionFalse, Reason: ksealv1.ReasonPolicyInvalid, Message: v.problem, ObservedGeneration: generation}
	}
	return &metav1.Condition{Type: ksealv1.ConditionPolicy, Status: metav1.ConditionFalse, Reason: ksealv1.ReasonPolicyMissing, Message: v.problem, ObservedGeneration: generation}
}

package controller

import (
	"context"
	"fmt"
	"slices"
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

// PolicyConfigMap, in the controller's namespace, holds kseal.yaml under
// PolicyKey. Without it (and without a kept copy, below) every namespace may
// use every key. PolicyAppliedConfigMap is the controller's copy of the last
// valid policy, so that a typo or a deleted ConfigMap never switches
// enforcement off, not even across restarts.
const (
	PolicyConfigMap        = "kseal-policy"
	PolicyAppliedConfigMap = "kseal-policy-applied"
	PolicyKey              = "kseal.yaml"
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
	cluster   string // --cluster-name: which of the policy's clusters is this one
	require   bool   // --require-policy: no policy at all denies every unseal
	recorder  events.EventRecorder

	mu        sync.Mutex
	version   string         // resourceVersion of the ConfigMap last parsed
	parseErr  error          // its error, if invalid
	valid     *policy.Policy // the last valid policy
	validText string
	copied    string // text last written to the applied copy
	copyVer   string // resourceVersion of the applied copy last parsed
	copyPol   *policy.Policy
	copyBad   bool       // the applied copy exists but does not parse: fail closed
	reported  policyView // last state logged and announced
}

// current returns the policy to enforce. An error is transient (the API).
func (s *policyStore) current(ctx context.Context) (policyView, error) {
	// Read under the lock: the cache only moves forward, so reconciles see
	// the ConfigMap's versions in order and a stale read can never make an
	// older policy "the last valid one" again.
	s.mu.Lock()
	defer s.mu.Unlock()
	var cm corev1.ConfigMap
	err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: PolicyConfigMap}, &cm)
	if err != nil && !apierrors.IsNotFound(err) {
		return policyView{}, err
	}
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
		case s.copyBad:
			v = policyView{state: policyMissing, problem: fmt.Sprintf("policy ConfigMap %s is missing and the kept copy %s does not parse: every unseal is denied (delete both and restart the controller to remove the policy)", s.name(), PolicyAppliedConfigMap)}
		default:
			v = policyView{state: policyNone}
		}
	} else {
		if cm.ResourceVersion != s.version {
			s.version = cm.ResourceVersion
			text := cm.Data[PolicyKey]
			pol, perr := policy.ParseInCluster([]byte(text), s.name())
			if perr == nil {
				perr = forCluster(pol, s.cluster)
			}
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
	// Parse errors may quote the ConfigMap's text; the problem reaches
	// events and the status of every SealedSecret.
	v.problem = printable(v.problem)
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
		s.copyBad = false
		return s.valid, nil
	case err != nil:
		return nil, err
	}
	if cm.ResourceVersion != s.copyVer {
		s.copyVer = cm.ResourceVersion
		var perr error
		s.copyPol, perr = policy.ParseInCluster([]byte(cm.Data[PolicyKey]), s.namespace+"/"+PolicyAppliedConfigMap)
		if perr == nil {
			perr = forCluster(s.copyPol, s.cluster)
		}
		if perr != nil {
			s.copyPol = nil
		}
		s.copyBad = perr != nil
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
		// Written already; write it again if someone deleted it.
		var cur corev1.ConfigMap
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: PolicyAppliedConfigMap}, &cur); !apierrors.IsNotFound(err) {
			return
		}
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

// forCluster refuses a policy whose keys include cluster keys but which
// does not name this controller's cluster: every object sealed to the
// cluster's keys would look explicitly denied, and with
// --policy-revoke-deletes one renamed cluster (or a missing --cluster-name)
// would delete every Secret. Such a policy counts as invalid: the last
// valid one stays in force and nothing is deleted.
func forCluster(p *policy.Policy, cluster string) error {
	var names []string
	uses, ours := false, false
	for name := range p.Clusters {
		names = append(names, name)
	}
	for _, k := range p.Keys {
		if k != nil && k.Cluster != "" {
			uses = true
			ours = ours || k.Cluster == cluster
		}
	}
	if !uses {
		return nil
	}
	slices.Sort(names)
	if cluster == "" {
		return fmt.Errorf("the policy grants cluster keys (clusters %v) but this controller runs without --cluster-name, so none of them would be its own", names)
	}
	if _, ok := p.Clusters[cluster]; !ok {
		return fmt.Errorf("the policy grants cluster keys but does not list this controller's cluster %q (--cluster-name) under clusters: %v", cluster, names)
	}
	if !ours {
		return fmt.Errorf("the policy grants cluster keys, but none of this controller's cluster %q (--cluster-name): every object sealed to them would be denied", cluster)
	}
	return nil
}

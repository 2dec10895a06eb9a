package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	unsealTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kseal_unseal_total",
		Help: "SealedSecrets unsealed into Secrets (created or updated).",
	})
	unsealErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kseal_unseal_errors_total",
		Help: "Failed unseals by reason (the Ready condition's reason).",
	}, []string{"reason"})
	reconcileDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kseal_reconcile_duration_seconds",
		Help:    "Time to reconcile one SealedSecret.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	policyStateGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kseal_policy_state",
		Help: "1 for the policy state in force: current, invalid (last valid kept), missing (ConfigMap deleted: last valid kept, or every unseal denied), none (no policy configured).",
	}, []string{"state"})
	unwrapAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kseal_unwrap_attempts_total",
		Help: "Data key unwrap attempts that reached an identity (a KMS call for KMS keys), by result.",
	}, []string{"result"})
	keyCount = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kseal_cluster_keys",
		Help: "Cluster keys held (the newest seals, all open).",
	})
	keyAge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kseal_cluster_key_age_seconds",
		Help: "Age of the newest cluster key when last loaded.",
	})
)

func init() {
	metrics.Registry.MustRegister(unsealTotal, unsealErrors, reconcileDuration, keyCount, keyAge, policyStateGauge, unwrapAttempts)
}

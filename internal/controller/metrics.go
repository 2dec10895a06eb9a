package controller

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"kseal.dev/kseal/internal/version"
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
	// buildInfo lets dashboards and alerts see which release runs where
	// (a rollout half done shows two versions).
	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kseal_build_info",
		Help: "Always 1; the labels say which kseal-controller build this is: release version, commit, Go version, envelope format.",
	}, []string{"version", "commit", "goversion", "format"})
)

func init() {
	v := version.Get()
	buildInfo.WithLabelValues(v.Version, v.Commit, v.GoVersion, strconv.Itoa(v.Format)).Set(1)
	metrics.Registry.MustRegister(unsealTotal, unsealErrors, reconcileDuration, keyCount, keyAge, policyStateGauge, unwrapAttempts, buildInfo)
}

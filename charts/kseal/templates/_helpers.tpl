{{/* The controller's name: RBAC, ServiceAccount, Deployment and Service.
kseal fetch-recipients finds the Service by this name, so keep the default. */}}
{{- define "kseal.name" -}}
{{- default "kseal-controller" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kseal.labels" -}}
app.kubernetes.io/name: {{ include "kseal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kseal.selector" -}}
app.kubernetes.io/name: {{ include "kseal.name" . }}
{{- end -}}

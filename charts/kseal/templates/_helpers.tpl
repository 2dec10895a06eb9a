{{/* The controller's name: RBAC, ServiceAccount, Deployment and Service.
kseal fetch-recipients finds the Service by this name, so keep the default. */}}
{{- define "kseal.name" -}}
{{- default "kseal-controller" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name of the cluster-scoped objects (the ClusterRole, its
ClusterRoleBinding) and of the RoleBindings to them in watched namespaces:
unique to the release (a namespace holds one release of a name; ":" is in
no namespace or release name), so the chart installs beside
config/install.yaml, whose objects are named kseal-controller, and twice
in two namespaces. */}}
{{- define "kseal.clusterName" -}}
{{- printf "%s:%s:%s" (include "kseal.name" .) .Release.Namespace .Release.Name -}}
{{- end -}}

{{- define "kseal.labels" -}}
app.kubernetes.io/name: {{ include "kseal.name" . }}
{{ include "kseal.commonLabels" . }}
{{- end -}}

{{/* The labels of every object but app.kubernetes.io/name, which each
shard's Deployment sets to its own name. */}}
{{- define "kseal.commonLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kseal.selector" -}}
app.kubernetes.io/name: {{ include "kseal.name" . }}
{{- end -}}

{{- define "result-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "result-gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "result-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "result-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object and of the pods: the selector plus the recommended app.kubernetes.io set. */}}
{{- define "result-gateway.podLabels" -}}
{{ include "result-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | trunc 63 | quote }}
app.kubernetes.io/component: gateway
app.kubernetes.io/part-of: {{ .Values.partOf | default (include "result-gateway.name" .) | quote }}
{{- end -}}

{{- define "result-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "result-gateway.podLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "result-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "result-gateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Seconds Kubernetes waits after SIGTERM before SIGKILL: the gateway's drain plus its grace (config.RG_SHUTDOWN_*)
plus headroom, unless set explicitly, and then it must exceed drain + grace.
*/}}
{{- define "result-gateway.terminationGracePeriodSeconds" -}}
{{- $drain := int (index .Values.config "RG_SHUTDOWN_DRAIN_SECONDS" | default 5) -}}
{{- $grace := int (index .Values.config "RG_SHUTDOWN_GRACE_SECONDS" | default 10) -}}
{{- $needed := add $drain $grace -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- if le (int .Values.terminationGracePeriodSeconds) $needed -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed RG_SHUTDOWN_DRAIN_SECONDS + RG_SHUTDOWN_GRACE_SECONDS (%d)" (int .Values.terminationGracePeriodSeconds) $needed) -}}
{{- end -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add $needed 10 -}}
{{- end -}}
{{- end -}}

{{/* Sentinel mode: a sentinel:// URL or RG_REDIS_SENTINELS; the NetworkPolicy then also opens the Sentinel port. */}}
{{- define "result-gateway.sentinel" -}}
{{- if or (hasPrefix "sentinel" (.Values.redis.url | default "")) (index .Values.config "RG_REDIS_SENTINELS") .Values.redis.sentinelPasswordKey -}}true{{- end -}}
{{- end -}}

{{/* The Secret holding the Redis password / URL: the user's, or the one this chart creates. */}}
{{- define "result-gateway.secretName" -}}
{{- if .Values.redis.existingSecret -}}
{{- .Values.redis.existingSecret -}}
{{- else -}}
{{- include "result-gateway.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "result-gateway.hasSecret" -}}
{{- if or .Values.redis.existingSecret .Values.redis.password -}}true{{- end -}}
{{- end -}}

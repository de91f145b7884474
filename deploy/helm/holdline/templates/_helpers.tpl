{{/* The name of the release's objects: <release>-holdline, at most 63 characters. */}}
{{- define "holdline.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the pods: never change them on an upgrade. */}}
{{- define "holdline.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "holdline.labels" -}}
{{ include "holdline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* "true" when the pods share a store (Redis), which is what lets them be more than one. */}}
{{- define "holdline.sharedStore" -}}
{{- if or .Values.redis.enabled .Values.externalRedis.url .Values.externalRedis.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* "true" when the chart's own Secret has something to hold. */}}
{{- define "holdline.ownSecret" -}}
{{- if or (and .Values.jwt.secret (not .Values.jwt.existingSecret)) (and .Values.externalRedis.url (not .Values.externalRedis.existingSecret) (not .Values.redis.enabled)) -}}true{{- end -}}
{{- end -}}

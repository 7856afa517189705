{{/* Names, labels and the environment every linedesk container gets. */}}

{{- define "linedesk.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's base name; component suffixes (-api, -worker, -migrate) keep it under 63. */}}
{{- define "linedesk.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "linedesk.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "linedesk.selectorLabels" -}}
app.kubernetes.io/name: {{ include "linedesk.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "linedesk.labels" -}}
helm.sh/chart: {{ include "linedesk.chart" . }}
{{ include "linedesk.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: linedesk
{{- end }}

{{/* Selector labels of one component: dict "root" $ "component" "api". */}}
{{- define "linedesk.componentSelectorLabels" -}}
{{ include "linedesk.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "linedesk.componentLabels" -}}
{{ include "linedesk.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "linedesk.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Secret the chart creates from inline values, and its hook copy for the migrate Job. */}}
{{- define "linedesk.secretName" -}}
{{- include "linedesk.fullname" . }}
{{- end }}
{{- define "linedesk.migrateSecretName" -}}
{{- printf "%s-migrate" (include "linedesk.fullname" .) }}
{{- end }}
{{- define "linedesk.configMapName" -}}
{{- include "linedesk.fullname" . }}
{{- end }}

{{/* LINEDESK_STORAGE_URL: storage.url, else file://<mountPath> with persistence, else empty. */}}
{{- define "linedesk.storageURL" -}}
{{- if .Values.storage.url }}
{{- .Values.storage.url }}
{{- else if .Values.storage.persistence.enabled }}
{{- printf "file://%s" .Values.storage.persistence.mountPath }}
{{- end }}
{{- end }}

{{- define "linedesk.claimName" -}}
{{- .Values.storage.persistence.existingClaim | default (printf "%s-files" (include "linedesk.fullname" .)) }}
{{- end }}

{{/*
The inline secret values the chart keeps, as Secret data, for a component: "shared" (the Secret
api and worker read) or "migrate" (the migrate Job's hook copy). A value whose group names an
existingSecret is not kept: it is read from there.
*/}}
{{- define "linedesk.secretData" -}}
{{- $v := .root.Values }}
{{- $migrate := eq .component "migrate" }}
{{- $data := dict }}
{{- if and $v.database.url (not $v.database.existingSecret) }}
{{- $_ := set $data "DATABASE_URL" $v.database.url }}
{{- end }}
{{- if not $v.secrets.existingSecret }}
{{- if $v.secrets.key }}{{ $_ := set $data "LINEDESK_SECRETS_KEY" $v.secrets.key }}{{ end }}
{{- if $v.secrets.oldKeys }}{{ $_ := set $data "LINEDESK_SECRETS_OLD_KEYS" $v.secrets.oldKeys }}{{ end }}
{{- end }}
{{- if not $v.storage.s3.existingSecret }}
{{- if $v.storage.s3.accessKeyId }}{{ $_ := set $data "AWS_ACCESS_KEY_ID" $v.storage.s3.accessKeyId }}{{ end }}
{{- if $v.storage.s3.secretAccessKey }}{{ $_ := set $data "AWS_SECRET_ACCESS_KEY" $v.storage.s3.secretAccessKey }}{{ end }}
{{- end }}
{{- if $migrate }}
{{- if and $v.admin.password (not $v.admin.existingSecret) }}
{{- $_ := set $data "LINEDESK_ADMIN_PASSWORD" $v.admin.password }}
{{- end }}
{{- else }}
{{- if and $v.metrics.token (not $v.metrics.existingSecret) }}
{{- $_ := set $data "LINEDESK_METRICS_TOKEN" $v.metrics.token }}
{{- end }}
{{- if and $v.temporal.apiKey (not $v.temporal.existingSecret) }}
{{- $_ := set $data "TEMPORAL_API_KEY" $v.temporal.apiKey }}
{{- end }}
{{- if and $v.smtp.host (not $v.smtp.existingSecret) }}
{{- if $v.smtp.username }}{{ $_ := set $data "LINEDESK_SMTP_USERNAME" $v.smtp.username }}{{ end }}
{{- if $v.smtp.password }}{{ $_ := set $data "LINEDESK_SMTP_PASSWORD" $v.smtp.password }}{{ end }}
{{- end }}
{{- end }}
{{- range $k := keys $data | sortAlpha }}
{{ $k }}: {{ get $data $k | toString | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
One environment variable from a secret: dict "name" ENV "value" INLINE "existing" SECRET "key" KEY
"chartSecret" NAME "optional" BOOL. From the existing Secret when one is named, else from the
chart's Secret when the value is given inline, else nothing.
*/}}
{{- define "linedesk.secretEnv" -}}
{{- if .existing }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .existing | quote }}
      key: {{ .key | quote }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- else if .value }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .chartSecret | quote }}
      key: {{ .name }}
{{- end }}
{{- end }}

{{/* The secret variables of a component: dict "root" $ "component" "api"|"worker"|"migrate". */}}
{{- define "linedesk.secretEnvs" -}}
{{- $v := .root.Values }}
{{- $migrate := eq .component "migrate" }}
{{- $chartSecret := include "linedesk.secretName" .root }}
{{- if $migrate }}{{ $chartSecret = include "linedesk.migrateSecretName" .root }}{{ end }}
{{- include "linedesk.secretEnv" (dict "name" "DATABASE_URL" "value" $v.database.url "existing" $v.database.existingSecret "key" $v.database.urlKey "chartSecret" $chartSecret) }}
{{- include "linedesk.secretEnv" (dict "name" "LINEDESK_SECRETS_KEY" "value" $v.secrets.key "existing" $v.secrets.existingSecret "key" $v.secrets.keyKey "chartSecret" $chartSecret) }}
{{- include "linedesk.secretEnv" (dict "name" "LINEDESK_SECRETS_OLD_KEYS" "value" $v.secrets.oldKeys "existing" $v.secrets.existingSecret "key" $v.secrets.oldKeysKey "chartSecret" $chartSecret "optional" true) }}
{{- include "linedesk.secretEnv" (dict "name" "AWS_ACCESS_KEY_ID" "value" $v.storage.s3.accessKeyId "existing" $v.storage.s3.existingSecret "key" $v.storage.s3.accessKeyIdKey "chartSecret" $chartSecret) }}
{{- include "linedesk.secretEnv" (dict "name" "AWS_SECRET_ACCESS_KEY" "value" $v.storage.s3.secretAccessKey "existing" $v.storage.s3.existingSecret "key" $v.storage.s3.secretAccessKeyKey "chartSecret" $chartSecret) }}
{{- if $migrate }}
{{- include "linedesk.secretEnv" (dict "name" "LINEDESK_ADMIN_PASSWORD" "value" $v.admin.password "existing" $v.admin.existingSecret "key" $v.admin.passwordKey "chartSecret" $chartSecret "optional" true) }}
{{- else }}
{{- include "linedesk.secretEnv" (dict "name" "LINEDESK_METRICS_TOKEN" "value" $v.metrics.token "existing" $v.metrics.existingSecret "key" $v.metrics.tokenKey "chartSecret" $chartSecret) }}
{{- include "linedesk.secretEnv" (dict "name" "TEMPORAL_API_KEY" "value" $v.temporal.apiKey "existing" $v.temporal.existingSecret "key" $v.temporal.apiKeyKey "chartSecret" $chartSecret) }}
{{- end }}
{{- if and (eq .component "worker") $v.smtp.host }}
{{- include "linedesk.secretEnv" (dict "name" "LINEDESK_SMTP_USERNAME" "value" $v.smtp.username "existing" $v.smtp.existingSecret "key" $v.smtp.usernameKey "chartSecret" $chartSecret "optional" true) }}
{{- include "linedesk.secretEnv" (dict "name" "LINEDESK_SMTP_PASSWORD" "value" $v.smtp.password "existing" $v.smtp.existingSecret "key" $v.smtp.passwordKey "chartSecret" $chartSecret "optional" true) }}
{{- end }}
{{- end }}

{{/* What a working install still lacks, one line each (NOTES.txt prints them). */}}
{{- define "linedesk.missing" -}}
{{- $v := .Values }}
{{- if not (or $v.database.url $v.database.existingSecret) }}
- database.url or database.existingSecret (DATABASE_URL)
{{- end }}
{{- if not (or $v.secrets.key $v.secrets.existingSecret) }}
- secrets.key or secrets.existingSecret (LINEDESK_SECRETS_KEY: openssl rand -base64 32)
{{- end }}
{{- if not (include "linedesk.storageURL" .) }}
- storage.url or storage.persistence.enabled (LINEDESK_STORAGE_URL)
{{- end }}
{{- end }}

{{/* Checks that fail the render with a clear message. */}}
{{- define "linedesk.validate" -}}
{{- range $c := list "api" "worker" }}
{{- $a := (get $.Values $c).autoscaling }}
{{- if and $a.enabled (lt (int $a.maxReplicas) (int $a.minReplicas)) }}
{{- fail (printf "%s.autoscaling.maxReplicas (%v) is below minReplicas (%v)" $c $a.maxReplicas $a.minReplicas) }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "ingress.enabled needs at least one host in ingress.hosts" }}
{{- end }}
{{- if and .Values.storage.url (not (or (hasPrefix "s3://" .Values.storage.url) (hasPrefix "file:///" .Values.storage.url))) }}
{{- fail (printf "storage.url %q is not s3://bucket/prefix?endpoint=... or file:///dir" .Values.storage.url) }}
{{- end }}
{{- if and .Values.smtp.host (not .Values.smtp.from) }}
{{- fail "smtp.host needs smtp.from (the sender, e.g. \"Support <support@example.com>\")" }}
{{- end }}
{{- end }}

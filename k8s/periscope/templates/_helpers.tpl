{{/* Names ----------------------------------------------------------------- */}}

{{- define "periscope.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name; the release name alone when it already contains the chart name. */}}
{{- define "periscope.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* <fullname>-<suffix>, kept within 63 characters. Call with (list $ "suffix"). */}}
{{- define "periscope.suffixed" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "periscope.fullname" $root | trunc (int (sub 62 (len (index . 1))))) (index . 1) | trimSuffix "-" }}
{{- end }}

{{- define "periscope.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "periscope.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels ---------------------------------------------------------------- */}}

{{- define "periscope.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "periscope.selectorLabels" . }}
app.kubernetes.io/part-of: periscope
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels for release-wide objects: the version is the stable track's. */}}
{{- define "periscope.labels" -}}
{{ include "periscope.commonLabels" . }}
app.kubernetes.io/version: {{ include "periscope.imageTag" (list . "stable") | trunc 63 | quote }}
{{- end }}

{{/* Labels for one track's objects and pods. Call with (list $ "stable"|"canary"). */}}
{{- define "periscope.trackLabels" -}}
{{ include "periscope.commonLabels" (index . 0) }}
app.kubernetes.io/version: {{ include "periscope.imageTag" . | trunc 63 | quote }}
track: {{ index . 1 }}
{{- end }}

{{/* Selects every pod of the release, stable and canary alike (the public Service, PDB, NetworkPolicy). */}}
{{- define "periscope.selectorLabels" -}}
app.kubernetes.io/name: {{ include "periscope.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Selects one track. The stable Deployment's selector includes track=stable from
the first install, so turning the canary on later never changes an immutable
selector, and the two Deployments never claim each other's pods.
Call with (list $ "stable"|"canary").
*/}}
{{- define "periscope.trackSelectorLabels" -}}
{{ include "periscope.selectorLabels" (index . 0) }}
track: {{ index . 1 }}
{{- end }}

{{/* Image ------------------------------------------------------------------ */}}

{{/* The tag a track runs (canary: its own tag, required by the schema). Call with (list $ track). */}}
{{- define "periscope.imageTag" -}}
{{- $root := index . 0 }}
{{- if eq (index . 1) "canary" }}
{{- $root.Values.canary.image.tag }}
{{- else }}
{{- default $root.Chart.AppVersion $root.Values.image.tag }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. Call with (list $ track). */}}
{{- define "periscope.image" -}}
{{- $root := index . 0 }}
{{- $digest := ternary $root.Values.canary.image.digest $root.Values.image.digest (eq (index . 1) "canary") }}
{{- if $digest }}
{{- printf "%s@%s" $root.Values.image.repository $digest }}
{{- else }}
{{- printf "%s:%s" $root.Values.image.repository (include "periscope.imageTag" .) }}
{{- end }}
{{- end }}

{{/* Shutdown arithmetic ---------------------------------------------------- */}}

{{/*
terminationGracePeriodSeconds = preStop sleep + SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS
(rounded up to whole seconds) + margin. The service exits by itself (0, or 1
when draining overruns) within delay + timeout after SIGTERM; the margin covers
the span flush and process exit, so SIGKILL is never the normal way out.
*/}}
{{- define "periscope.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown }}
{{- $ms := add $s.delayMs $s.timeoutMs }}
{{- add $s.preStopSleepSeconds (div (add $ms 999) 1000) $s.marginSeconds }}
{{- end }}

{{/* Cross-field rules the JSON schema cannot express; each fails with one clear line. */}}
{{- define "periscope.validate" -}}
{{- if eq (int .Values.ports.http) (int .Values.ports.admin) }}
{{- fail (printf "ports.http and ports.admin must differ (both are %v): the admin port is never public" .Values.ports.http) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not (or .Values.autoscaling.cpu.enabled .Values.autoscaling.eventLoopUtilization.enabled)) }}
{{- fail "autoscaling.enabled=true needs autoscaling.cpu.enabled or autoscaling.eventLoopUtilization.enabled" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%v) must not exceed autoscaling.maxReplicas (%v)" .Values.autoscaling.minReplicas .Values.autoscaling.maxReplicas) }}
{{- end }}
{{- if and .Values.autoscaling.enabled .Values.autoscaling.cpu.enabled (not (dig "requests" "cpu" "" .Values.resources)) }}
{{- fail "autoscaling.cpu.enabled=true needs resources.requests.cpu: CPU utilization is measured against the request" }}
{{- end }}
{{- if and .Values.canary.enabled (eq (toString .Values.canary.image.tag) (include "periscope.imageTag" (list . "stable"))) (not .Values.canary.image.digest) }}
{{- fail (printf "canary.image.tag (%s) is the stable tag: a canary must run a different build" .Values.canary.image.tag) }}
{{- end }}
{{- end }}

{{/* The ELU target (0..1) in milli-units for a Quantity: 0.6 → 600. */}}
{{- define "periscope.eluMilli" -}}
{{- int (round (mulf .Values.autoscaling.eventLoopUtilization.target 1000) 0) }}
{{- end }}

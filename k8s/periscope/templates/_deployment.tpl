{{/*
One Deployment per track, from one template so stable and canary can only
differ where they are meant to: name, image, replicas and the track label.
Call with (list $ "stable"|"canary").
*/}}
{{- define "periscope.deployment" -}}
{{- $ := index . 0 }}
{{- $track := index . 1 }}
{{- $stable := eq $track "stable" }}
{{- $name := ternary (include "periscope.fullname" $) (include "periscope.suffixed" (list $ "canary")) $stable }}
{{- $v := $.Values }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "periscope.trackLabels" (list $ $track) | nindent 4 }}
spec:
  {{- /* With the HPA on, it owns spec.replicas; rendering it would reset the scale on every upgrade. */}}
  {{- if not (and $stable $v.autoscaling.enabled) }}
  replicas: {{ ternary $v.replicaCount $v.canary.replicas $stable }}
  {{- end }}
  revisionHistoryLimit: {{ $v.revisionHistoryLimit }}
  selector:
    matchLabels:
      {{- include "periscope.trackSelectorLabels" (list $ $track) | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # Never below the desired count during a rollout: new pods must be ready first.
      maxUnavailable: 0
      maxSurge: {{ $v.rollingUpdate.maxSurge }}
  template:
    metadata:
      labels:
        {{- include "periscope.trackLabels" (list $ $track) | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $v.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "periscope.serviceAccountName" $ }}
      # The service never calls the Kubernetes API: no token in the pod.
      automountServiceAccountToken: false
      # No *_SERVICE_HOST variables for every Service in the namespace.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "periscope.terminationGracePeriodSeconds" $ }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- if $v.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $key := list "zone" "node" }}
        {{- $c := index $v.topologySpread $key }}
        - topologyKey: {{ $c.topologyKey }}
          maxSkew: {{ $c.maxSkew }}
          whenUnsatisfiable: {{ $c.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "periscope.trackSelectorLabels" (list $ $track) | nindent 14 }}
          # Spread each rollout's new ReplicaSet on its own, not mixed with the old one.
          matchLabelKeys: [pod-template-hash]
        {{- end }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: periscope
          image: {{ include "periscope.image" (list $ $track) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $v.ports.http }}
              protocol: TCP
            - name: admin
              containerPort: {{ $v.ports.admin }}
              protocol: TCP
          env:
            {{- include "periscope.env" (list $ $track $name) | nindent 12 }}
          # All probes hit the admin port: app traffic, rate limits and load
          # shedding on port {{ $v.ports.http }} never fail a probe.
          startupProbe:
            httpGet: { path: /readyz, port: admin }
            {{- toYaml $v.probes.startup | nindent 12 }}
          readinessProbe:
            httpGet: { path: /readyz, port: admin }
            {{- toYaml $v.probes.readiness | nindent 12 }}
          livenessProbe:
            httpGet: { path: /livez, port: admin }
            {{- toYaml $v.probes.liveness | nindent 12 }}
          {{- if gt (int $v.shutdown.preStopSleepSeconds) 0 }}
          lifecycle:
            preStop:
              sleep:
                seconds: {{ $v.shutdown.preStopSleepSeconds }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          volumeMounts:
            # The only writable path (readOnlyRootFilesystem): heap snapshots, temp files.
            - name: tmp
              mountPath: /tmp
            # A directory mount, never subPath: the kubelet swaps the ..data
            # symlink on a ConfigMap edit and the service reloads the file.
            - name: config
              mountPath: /etc/periscope
              readOnly: true
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $v.tmpVolume.sizeLimit }}
        - name: config
          configMap:
            name: {{ include "periscope.suffixed" (list $ "config") }}
{{- end }}

{{/* The container's environment. Call with (list $ track deploymentName). */}}
{{- define "periscope.env" -}}
{{- $ := index . 0 }}
{{- $v := $.Values -}}
- name: PORT
  value: {{ $v.ports.http | quote }}
- name: ADMIN_PORT
  value: {{ $v.ports.admin | quote }}
# Both listeners on the pod IP, where kubelet probes and Prometheus connect.
- name: HOST
  value: "0.0.0.0"
- name: SHUTDOWN_DELAY_MS
  value: {{ $v.shutdown.delayMs | quote }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ $v.shutdown.timeoutMs | quote }}
- name: CONFIG_FILE
  value: /etc/periscope/config.yaml
- name: LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: ACCESS_LOG
  value: {{ $v.accessLog | quote }}
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: NODE_NAME
  valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
# For a node-local collector (DaemonSet): otel.endpoint: http://$(HOST_IP):4318
- name: HOST_IP
  valueFrom: { fieldRef: { fieldPath: status.hostIP } }
- name: OTEL_SERVICE_NAME
  value: {{ default (include "periscope.fullname" $) $v.otel.serviceName | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "periscope.resourceAttributes" . | quote }}
{{- with $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with $v.otel.sampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ . | quote }}
{{- end }}
{{- if ne (toString $v.otel.samplerArg) "" }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $v.otel.samplerArg | quote }}
{{- end }}
{{- if $v.profiling.enabled }}
- name: PROFILING_ENABLED
  value: "true"
- name: PROFILING_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $v.profiling.tokenSecret.name }}
      key: {{ $v.profiling.tokenSecret.key }}
{{- end }}
{{- if $v.auth.tokensSecret.name }}
- name: AUTH_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ $v.auth.tokensSecret.name }}
      key: {{ $v.auth.tokensSecret.key }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* OTEL_RESOURCE_ATTRIBUTES: Kubernetes semantic-convention attributes, plus otel.resourceAttributes. */}}
{{- define "periscope.resourceAttributes" -}}
{{- $ := index . 0 }}
{{- $attrs := list
  (printf "service.version=%s" (include "periscope.imageTag" (list $ (index . 1))))
  "k8s.namespace.name=$(POD_NAMESPACE)"
  "k8s.pod.name=$(POD_NAME)"
  "k8s.node.name=$(NODE_NAME)"
  (printf "k8s.deployment.name=%s" (index . 2))
  "k8s.container.name=periscope" }}
{{- range $k, $val := $.Values.otel.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $k $val) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}

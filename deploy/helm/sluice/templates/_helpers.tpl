{{/* vim: set filetype=mustache: */}}

{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.fullname" -}}
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

{{- define "sluice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "sluice.labels" -}}
helm.sh/chart: {{ include "sluice.chart" . }}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sluice
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: call with (dict "root" $ "component" "api"). */}}
{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Full labels of one component. */}}
{{- define "sluice.componentLabels" -}}
{{ include "sluice.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Label of the metrics-only Services (what the ServiceMonitor selects). */}}
{{- define "sluice.metricsServiceLabel" -}}
sluice/metrics: "true"
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sluice.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sluice.secretName" -}}
{{- default (printf "%s-secrets" (include "sluice.fullname" .)) .Values.secrets.name -}}
{{- end -}}

{{- define "sluice.configMapName" -}}
{{- printf "%s-config" (include "sluice.fullname" .) -}}
{{- end -}}

{{- define "sluice.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Bull wait list that KEDA watches: <QUEUE_PREFIX>:events:wait. */}}
{{- define "sluice.waitList" -}}
{{- printf "%s:events:wait" (toString .Values.config.QUEUE_PREFIX) -}}
{{- end -}}

{{/* ConfigMap data: every config value as a string, keys sorted. */}}
{{/* A config value as a string; integral numbers never in exponent form (YAML 1000000 is a float64 to Go). */}}
{{- define "sluice.configValue" -}}
{{- $v := . -}}
{{- if kindIs "float64" $v -}}
{{- if eq $v (floor $v) -}}{{- int64 $v -}}{{- else -}}{{- $v -}}{{- end -}}
{{- else -}}
{{- toString $v -}}
{{- end -}}
{{- end -}}

{{/* The PostgreSQL CA bundle (databaseCa): the ConfigMap that holds it, "" when none is configured. */}}
{{- define "sluice.databaseCaConfigMap" -}}
{{- if .Values.databaseCa.existingConfigMap -}}
{{- .Values.databaseCa.existingConfigMap -}}
{{- else if .Values.databaseCa.pem -}}
{{- printf "%s-database-ca" (include "sluice.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Key of the bundle in that ConfigMap. */}}
{{- define "sluice.databaseCaKey" -}}
{{- if .Values.databaseCa.existingConfigMap -}}{{ .Values.databaseCa.key }}{{- else -}}ca.pem{{- end -}}
{{- end -}}

{{/* Where every pod mounts the bundle; DATABASE_SSL_CA points at $dir/ca.pem (deploy/check/lib/contract.js databaseCaPath). */}}
{{- define "sluice.databaseCaDir" -}}/etc/sluice/database-ca{{- end -}}

{{/* volumeMounts / volumes entries for the bundle (nothing without databaseCa). */}}
{{- define "sluice.databaseCaMount" -}}
{{- if include "sluice.databaseCaConfigMap" . }}
- name: database-ca
  mountPath: {{ include "sluice.databaseCaDir" . }}
  readOnly: true
{{- end }}
{{- end -}}
{{- define "sluice.databaseCaVolume" -}}
{{- with include "sluice.databaseCaConfigMap" . }}
- name: database-ca
  configMap:
    name: {{ . }}
    items:
      - key: {{ include "sluice.databaseCaKey" $ }}
        path: ca.pem
{{- end }}
{{- end -}}

{{/*
The configuration the pods get, as JSON: config.*, with DATABASE_SSL_CA pointing at the mounted
bundle when databaseCa is set (one place decides the path).
*/}}
{{- define "sluice.effectiveConfig" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- if include "sluice.databaseCaConfigMap" . -}}
{{- $_ := set $cfg "DATABASE_SSL_CA" (printf "%s/ca.pem" (include "sluice.databaseCaDir" .)) -}}
{{- end -}}
{{- toJson $cfg -}}
{{- end -}}

{{- define "sluice.configData" -}}
{{- $cfg := include "sluice.effectiveConfig" . | fromJson -}}
{{- range $key := keys $cfg | sortAlpha }}
{{ $key }}: {{ include "sluice.configValue" (index $cfg $key) | quote }}
{{- end }}
{{- end -}}

{{/* The same configuration as a container env list (for the hook Job, which runs before the ConfigMap exists). */}}
{{- define "sluice.configEnv" -}}
{{- $cfg := include "sluice.effectiveConfig" . | fromJson -}}
{{- range $key := keys $cfg | sortAlpha }}
- name: {{ $key }}
  value: {{ include "sluice.configValue" (index $cfg $key) | quote }}
{{- end }}
{{- end -}}

{{/* Secret-backed env: call with (dict "root" $ "keys" (list "DATABASE_URL" ...)). */}}
{{- define "sluice.secretEnv" -}}
{{- $secret := include "sluice.secretName" .root -}}
{{- range .keys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ . }}
{{- end }}
{{- end -}}

{{- define "sluice.configChecksum" -}}
{{- include "sluice.configData" . | sha256sum -}}
{{- end -}}

{{/*
Fail early on combinations the schema cannot express.
*/}}
{{- define "sluice.validate" -}}
{{- $shutdownMs := int .Values.config.SHUTDOWN_TIMEOUT_MS -}}
{{- range $component := list "api" "worker" -}}
{{- $c := index $.Values $component -}}
{{- $budgetMs := mul (sub (int $c.terminationGracePeriodSeconds) (int $c.preStopSleepSeconds)) 1000 -}}
{{- if ge $shutdownMs (int $budgetMs) -}}
{{- fail (printf "config.SHUTDOWN_TIMEOUT_MS (%d) must be below (%s.terminationGracePeriodSeconds - %s.preStopSleepSeconds) * 1000 = %d, or pods are killed mid-drain" $shutdownMs $component $component (int $budgetMs)) -}}
{{- end -}}
{{- if and $c.autoscaling.enabled (gt (int $c.autoscaling.minReplicas) (int $c.autoscaling.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.minReplicas must not exceed maxReplicas" $component) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.worker.keda.enabled (gt (int .Values.worker.autoscaling.minReplicas) (int .Values.worker.autoscaling.maxReplicas)) -}}
{{- fail "worker.autoscaling.minReplicas must not exceed maxReplicas (KEDA uses them)" -}}
{{- end -}}
{{- $metricsPort := int .Values.config.METRICS_PORT -}}
{{- range $component := list "api" "worker" -}}
{{- if eq $metricsPort (int (index $.Values $component).port) -}}
{{- fail (printf "config.METRICS_PORT (%d) must differ from %s.port: /metrics gets a listener of its own" $metricsPort $component) -}}
{{- end -}}
{{- end -}}
{{- $ca := .Values.databaseCa -}}
{{- if and $ca.pem $ca.existingConfigMap -}}
{{- fail "databaseCa: set pem or existingConfigMap, not both" -}}
{{- end -}}
{{- if and (include "sluice.databaseCaConfigMap" .) .Values.config.DATABASE_SSL_CA -}}
{{- fail "config.DATABASE_SSL_CA must stay empty when databaseCa is set: the chart points it at the mounted bundle" -}}
{{- end -}}
{{- if and (include "sluice.databaseCaConfigMap" .) (eq (toString .Values.config.DATABASE_SSL) "off") -}}
{{- fail "databaseCa is set but config.DATABASE_SSL is off: the bundle would never be used" -}}
{{- end -}}
{{- if and (eq (toString .Values.config.REDIS_DURABILITY) "replicas") (ge (int .Values.config.REDIS_WAIT_TIMEOUT_MS) (int .Values.config.ENQUEUE_TIMEOUT_MS)) -}}
{{- fail (printf "config.REDIS_WAIT_TIMEOUT_MS (%d) must be below ENQUEUE_TIMEOUT_MS (%d): the enqueue timeout would answer 503 before WAIT does" (int .Values.config.REDIS_WAIT_TIMEOUT_MS) (int .Values.config.ENQUEUE_TIMEOUT_MS)) -}}
{{- end -}}
{{- end -}}

{{/*
Scheduling: topology spread and anti-affinity for one component. Call with (dict "root" $ "component" "api").
*/}}
{{- define "sluice.scheduling" -}}
{{- $s := .root.Values.scheduling -}}
{{- if $s.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ $s.topologySpread.maxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ $s.topologySpread.zoneWhenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "sluice.selectorLabels" . | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
  - maxSkew: {{ $s.topologySpread.maxSkew }}
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: {{ $s.topologySpread.hostnameWhenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "sluice.selectorLabels" . | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- if ne $s.podAntiAffinity "none" }}
affinity:
  podAntiAffinity:
    {{- if eq $s.podAntiAffinity "hard" }}
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "sluice.selectorLabels" . | nindent 12 }}
    {{- end }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: topology.kubernetes.io/zone
          labelSelector:
            matchLabels:
              {{- include "sluice.selectorLabels" . | nindent 14 }}
      {{- if eq $s.podAntiAffinity "soft" }}
      - weight: 50
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "sluice.selectorLabels" . | nindent 14 }}
      {{- end }}
{{- end }}
{{- end -}}

{{/*
One Deployment of the image in a role. Call with (dict "root" $ "component" "api"|"worker").
*/}}
{{- define "sluice.deployment" -}}
{{- $root := .root -}}
{{- $component := .component -}}
{{- $c := index $root.Values $component -}}
{{- $autoscaled := or $c.autoscaling.enabled (and (eq $component "worker") $root.Values.worker.keda.enabled) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "sluice.fullname" $root }}-{{ $component }}
  labels:
    {{- include "sluice.componentLabels" . | nindent 4 }}
spec:
  {{- if not $autoscaled }}
  replicas: {{ $c.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "sluice.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "sluice.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
        # Fluent Bit ships only pods with this label (deploy/logging/fluent-bit-values.yaml).
        app.kubernetes.io/part-of: sluice
        {{- with $c.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "sluice.configChecksum" $root }}
        {{- with $root.Values.databaseCa.pem }}
        checksum/database-ca: {{ . | sha256sum }}
        {{- end }}
        {{- if and $root.Values.metrics.podAnnotations (not $root.Values.metrics.serviceMonitor.enabled) }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ include "sluice.configValue" $root.Values.config.METRICS_PORT | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with $c.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "sluice.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
      {{- with $c.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- include "sluice.scheduling" . | trim | nindent 6 }}
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $component }}
          image: {{ include "sluice.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["node", "dist/main.js"]
          ports:
            - name: http
              containerPort: {{ $c.port }}
              protocol: TCP
            # /metrics only (METRICS_PORT): Prometheus scrapes it, no Service for clients exposes it.
            - name: metrics
              containerPort: {{ include "sluice.configValue" $root.Values.config.METRICS_PORT }}
              protocol: TCP
          env:
            - name: ROLE
              value: {{ $c.role | quote }}
            - name: PORT
              value: {{ $c.port | quote }}
            {{- include "sluice.secretEnv" (dict "root" $root "keys" (list "DATABASE_URL" "REDIS_URL")) | trim | nindent 12 }}
            {{- if and (ne $c.role "worker") $root.Values.secrets.adminToken }}
            # Bootstrap credential (creates admin keys only). Optional: a Secret without the key
            # means bootstrap off, not pods stuck in CreateContainerConfigError.
            - name: ADMIN_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ include "sluice.secretName" $root }}
                  key: ADMIN_TOKEN
                  optional: true
            {{- end }}
            {{- if and (ne $c.role "worker") $root.Values.readReplica.enabled }}
            # The query API's read replica (readReplica.enabled). Writes, the worker, the
            # migrations and the operator CLI use DATABASE_URL only.
            {{- include "sluice.secretEnv" (dict "root" $root "keys" (list "DATABASE_READ_URL")) | trim | nindent 12 }}
            {{- end }}
            {{- $ownNodeOptions := false }}
            {{- range $c.extraEnv }}{{ if eq .name "NODE_OPTIONS" }}{{ $ownNodeOptions = true }}{{ end }}{{ end }}
            {{- if and $c.nodeOptions (not $ownNodeOptions) }}
            # V8's heap sized for the pod's budget, not for the node's RAM (docs/performance.md, Memory).
            - name: NODE_OPTIONS
              value: {{ $c.nodeOptions | quote }}
            {{- end }}
            {{- with $c.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "sluice.configMapName" $root }}
          startupProbe:
            httpGet:
              path: /health/live
              port: http
            periodSeconds: {{ $c.probes.startup.periodSeconds }}
            failureThreshold: {{ $c.probes.startup.failureThreshold }}
            timeoutSeconds: {{ $c.probes.startup.timeoutSeconds }}
          livenessProbe:
            httpGet:
              path: /health/live
              port: http
            periodSeconds: {{ $c.probes.liveness.periodSeconds }}
            failureThreshold: {{ $c.probes.liveness.failureThreshold }}
            timeoutSeconds: {{ $c.probes.liveness.timeoutSeconds }}
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            periodSeconds: {{ $c.probes.readiness.periodSeconds }}
            failureThreshold: {{ $c.probes.readiness.failureThreshold }}
            timeoutSeconds: {{ $c.probes.readiness.timeoutSeconds }}
          {{- if gt (int $c.preStopSleepSeconds) 0 }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", {{ $c.preStopSleepSeconds | quote }}]
          {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with (include "sluice.databaseCaMount" $root | trim) }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.tmpVolumeSizeLimit }}
        {{- with (include "sluice.databaseCaVolume" $root | trim) }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}

{{/*
CPU HorizontalPodAutoscaler. Call with (dict "root" $ "component" "api"|"worker").
*/}}
{{- define "sluice.hpa" -}}
{{- $c := index .root.Values .component -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "sluice.fullname" .root }}-{{ .component }}
  labels:
    {{- include "sluice.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "sluice.fullname" .root }}-{{ .component }}
  minReplicas: {{ $c.autoscaling.minReplicas }}
  maxReplicas: {{ $c.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $c.autoscaling.targetCPUUtilizationPercentage }}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies:
        - type: Percent
          value: 100
          periodSeconds: 30
    scaleDown:
      stabilizationWindowSeconds: {{ $c.autoscaling.scaleDownStabilizationSeconds }}
      policies:
        - type: Percent
          value: 25
          periodSeconds: 60
{{- end -}}

{{/*
PodDisruptionBudget. Call with (dict "root" $ "component" "api"|"worker").
*/}}
{{- define "sluice.pdb" -}}
{{- $c := index .root.Values .component -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "sluice.fullname" .root }}-{{ .component }}
  labels:
    {{- include "sluice.componentLabels" . | nindent 4 }}
spec:
  minAvailable: {{ $c.pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "sluice.selectorLabels" . | nindent 6 }}
{{- end -}}

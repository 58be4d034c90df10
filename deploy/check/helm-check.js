#!/usr/bin/env node
'use strict';
// Helm chart checks: lint + template for every value set, Kubernetes schema validation and
// strict typing of every rendered object, our own policy checks, bad value sets that must fail,
// and the chart README documenting every value.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const yaml = require('js-yaml');
const { binary, REPO_ROOT } = require('./lib/tools');
const { validateSchema, typecheck } = require('./lib/k8s-validate');
const contract = require('./lib/contract');
const { appEnvironment, refusal } = require('./lib/app-env');
const { report, skip } = require('./lib/report');

const CHART = path.join(REPO_ROOT, 'deploy/helm/sluice');
const BAD_VALUES = path.join(__dirname, 'bad-values');
const helm = binary('helm');

function valueSets() {
  const sets = [{ name: 'defaults', files: [] }];
  for (const f of fs.readdirSync(path.join(CHART, 'ci')).sort()) {
    if (f.endsWith('.yaml')) sets.push({ name: `ci/${f}`, files: [path.join(CHART, 'ci', f)] });
  }
  // The per-environment values that Argo CD deploys, in the order its Application lists them.
  const argo = path.join(REPO_ROOT, 'deploy/argocd');
  if (fs.existsSync(argo)) {
    for (const env of fs.readdirSync(argo).sort()) {
      const app = path.join(argo, env, 'application.yaml');
      if (!fs.existsSync(app)) continue;
      const doc = yaml.load(fs.readFileSync(app, 'utf8'));
      const chartSource = (doc.spec.sources || [doc.spec.source]).find((s) => s.path === 'deploy/helm/sluice');
      if (!chartSource) continue;
      const files = ((chartSource.helm || {}).valueFiles || []).map((f) => path.join(REPO_ROOT, f.replace(/^\$values\//, '')));
      const missing = files.filter((f) => !fs.existsSync(f));
      if (missing.length) throw new Error(`${path.relative(REPO_ROOT, app)} lists missing value files: ${missing.map((f) => path.relative(REPO_ROOT, f))}`);
      sets.push({ name: `argocd/${env}`, files });
    }
  }
  return sets;
}

function helmArgs(files) {
  return files.flatMap((f) => ['-f', f]);
}

function run(args) {
  return spawnSync(helm, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

// ---------------------------------------------------------------------------------------------
// Policy checks of our own, per value set (objects = rendered docs of one release).
function podSpecs(objects) {
  const out = [];
  for (const o of objects) {
    // A CronJob's pods are those of its jobTemplate.
    const template = o.spec && (o.spec.template || (o.spec.jobTemplate && o.spec.jobTemplate.spec && o.spec.jobTemplate.spec.template));
    const spec = template && template.spec;
    if (spec) out.push({ owner: `${o.kind}/${o.metadata.name}`, obj: o, spec, template });
  }
  return out;
}

// Fluent Bit's grep filters on pod labels (deploy/logging/fluent-bit-values.yaml):
// `Regex $kubernetes['labels']['<label>'] <regex>`.
let shipped;
function shippedLabels() {
  if (shipped) return shipped;
  const file = path.join(REPO_ROOT, 'deploy/logging/fluent-bit-values.yaml');
  const filters = fs.existsSync(file) ? String((yaml.load(fs.readFileSync(file, 'utf8')).config || {}).filters || '') : '';
  shipped = [...filters.matchAll(/^\s*Regex\s+\$kubernetes\['labels'\]\['([^']+)'\]\s+(\S+)\s*$/gm)].map((m) => [m[1], new RegExp(m[2])]);
  return shipped;
}

function policy(objects, setName) {
  const errors = [];
  const err = (m) => errors.push(`${setName}: ${m}`);
  const byKind = (k) => objects.filter((o) => o.kind === k);
  const configMaps = byKind('ConfigMap');
  const deployments = byKind('Deployment');
  const services = byKind('Service');
  // The ConfigMaps pods read as environment (envFrom); others (the CA bundle) are files.
  const envConfigMapNames = new Set();
  for (const { spec } of podSpecs(objects)) for (const c of spec.containers || []) for (const ef of c.envFrom || []) if (ef.configMapRef) envConfigMapNames.add(ef.configMapRef.name);
  const envConfigMaps = configMaps.filter((cm) => envConfigMapNames.has(cm.metadata.name));
  const configData = Object.assign({}, ...envConfigMaps.map((cm) => cm.data || {}));
  const metricsPort = configData.METRICS_PORT ? Number(configData.METRICS_PORT) : null;
  const metricsName = contract.metricsPortName;
  const isMetricsPort = (port) => port === metricsName || (metricsPort !== null && Number(port) === metricsPort);

  for (const { owner, obj, spec, template } of podSpecs(objects)) {
    // Log shipping keeps only pods whose labels pass Fluent Bit's grep filter.
    const labels = (template.metadata || {}).labels || {};
    for (const [label, re] of shippedLabels()) if (!re.test(labels[label] || '')) err(`${owner}: pod label ${label} must match ${re} or Fluent Bit drops its logs`);
    const psc = spec.securityContext || {};
    if (psc.runAsNonRoot !== true) err(`${owner}: pod securityContext.runAsNonRoot must be true`);
    if (!psc.seccompProfile || psc.seccompProfile.type !== 'RuntimeDefault') err(`${owner}: pod seccompProfile must be RuntimeDefault`);
    if (spec.automountServiceAccountToken !== false) err(`${owner}: automountServiceAccountToken must be false`);
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) err(`${owner}: host namespaces are not allowed`);
    const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
    for (const c of containers) {
      const where = `${owner} container ${c.name}`;
      const sc = c.securityContext || {};
      if (sc.readOnlyRootFilesystem !== true) err(`${where}: readOnlyRootFilesystem must be true`);
      if (sc.allowPrivilegeEscalation !== false) err(`${where}: allowPrivilegeEscalation must be false`);
      if (sc.privileged === true) err(`${where}: privileged`);
      if (!(sc.capabilities && Array.isArray(sc.capabilities.drop) && sc.capabilities.drop.includes('ALL'))) err(`${where}: capabilities.drop must contain ALL`);
      if (sc.capabilities && sc.capabilities.add && sc.capabilities.add.length) err(`${where}: capabilities.add must be empty`);
      if (sc.runAsNonRoot === false || (sc.runAsUser === 0)) err(`${where}: runs as root`);
      if ((sc.seccompProfile || psc.seccompProfile || {}).type !== 'RuntimeDefault') err(`${where}: seccomp must be RuntimeDefault`);
      if (/:latest$/.test(c.image) || !/[:@]/.test(c.image.split('/').pop())) err(`${where}: image must be pinned by tag or digest (${c.image})`);
      const r = c.resources || {};
      if (!r.requests || !r.requests.cpu || !r.requests.memory) err(`${where}: resources.requests cpu and memory are required`);
      if (!r.limits || !r.limits.memory) err(`${where}: resources.limits.memory is required`);
      const tmp = (c.volumeMounts || []).find((m) => m.mountPath === '/tmp');
      if (!tmp) err(`${where}: a writable /tmp volume is required with a read-only root filesystem`);
      // Env: names from the contract, secrets only from the Secret, references resolvable.
      const env = c.env || [];
      for (const e of env) {
        if (contract.secretEnv.includes(e.name) && !(e.valueFrom && e.valueFrom.secretKeyRef)) err(`${where}: ${e.name} must come from a Secret`);
        if (e.valueFrom && e.valueFrom.secretKeyRef) {
          const ref = e.valueFrom.secretKeyRef;
          if (ref.key !== e.name) err(`${where}: env ${e.name} reads secret key ${ref.key}`);
        }
        if (e.value !== undefined && /^-?\d+(\.\d+)?e[+-]?\d+$/i.test(String(e.value))) err(`${where}: env ${e.name}=${e.value} is in exponent notation`);
      }
      // Every secret of the app from one Secret (the one DATABASE_URL reads: what the
      // ExternalSecret fills), so an optional key cannot point at a Secret nobody maintains.
      const secretNames = new Set(env.filter((e) => contract.secretEnv.includes(e.name) && e.valueFrom && e.valueFrom.secretKeyRef).map((e) => e.valueFrom.secretKeyRef.name));
      if (secretNames.size > 1) err(`${where}: the app's secrets come from several Secrets (${[...secretNames].join(', ')})`);
      for (const ef of c.envFrom || []) {
        if (ef.configMapRef && !configMaps.some((cm) => cm.metadata.name === ef.configMapRef.name)) err(`${where}: envFrom ConfigMap ${ef.configMapRef.name} is not rendered`);
      }
      // DATABASE_SSL_CA at the chart's mount point: the bundle must be mounted there (the app
      // refuses to start when it cannot read the file), from a ConfigMap the chart renders or names.
      const caEnv = env.find((e) => e.name === 'DATABASE_SSL_CA');
      const ca = caEnv ? caEnv.value : (c.envFrom || []).length ? configData.DATABASE_SSL_CA : undefined;
      if (ca === contract.databaseCaPath) {
        const dir = path.posix.dirname(ca);
        const mount = (c.volumeMounts || []).find((m) => m.mountPath === dir);
        const vol = mount && (spec.volumes || []).find((v) => v.name === mount.name);
        if (!vol || !vol.configMap || !(vol.configMap.items || []).some((i) => i.path === path.posix.basename(ca))) err(`${where}: DATABASE_SSL_CA=${ca} but no ConfigMap volume provides it at ${dir}`);
        else if (mount.readOnly !== true) err(`${where}: the CA bundle mount must be readOnly`);
      }
    }
    if (obj.kind === 'Deployment') {
      const grace = spec.terminationGracePeriodSeconds;
      if (!(grace >= contract.graceSeconds.min && grace <= contract.graceSeconds.max)) err(`${owner}: terminationGracePeriodSeconds ${grace} outside ${contract.graceSeconds.min}-${contract.graceSeconds.max}`);
      if (!spec.topologySpreadConstraints && !spec.affinity && !setName.includes('minimal')) err(`${owner}: no topology spread or anti-affinity`);
      for (const c of spec.containers) {
        const where = `${owner} container ${c.name}`;
        const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
        const role = env.ROLE && env.ROLE.value;
        if (!contract.roles.includes(role)) err(`${where}: ROLE must be one of ${contract.roles} (got ${role})`);
        const port = env.PORT && Number(env.PORT.value);
        const http = (c.ports || []).find((p) => p.name === 'http');
        if (!http || http.containerPort !== port) err(`${where}: container port "http" must equal PORT (${port})`);
        const metrics = (c.ports || []).find((p) => p.name === metricsName);
        if (metricsPort !== null) {
          if (!metrics || metrics.containerPort !== metricsPort) err(`${where}: container port "${metricsName}" must equal METRICS_PORT (${metricsPort})`);
          if (metricsPort === port) err(`${where}: METRICS_PORT must differ from PORT`);
        } else if (metrics) err(`${where}: container port "${metricsName}" without METRICS_PORT (the app serves /metrics on PORT then)`);
        const ann = obj.spec.template.metadata.annotations || {};
        if (ann['prometheus.io/scrape'] === 'true' && Number(ann['prometheus.io/port']) !== (metricsPort !== null ? metricsPort : port)) err(`${where}: prometheus.io/port ${ann['prometheus.io/port']} is not the port serving /metrics (${metricsPort !== null ? metricsPort : port})`);
        if (JSON.stringify([...(c.command || []), ...(c.args || [])]) !== JSON.stringify(contract.appCommand)) err(`${where}: must run ${contract.appCommand.join(' ')}`);
        for (const [probe, p] of [['startupProbe', contract.liveness], ['livenessProbe', contract.liveness], ['readinessProbe', contract.readiness]]) {
          const pr = c[probe];
          if (!pr || !pr.httpGet) err(`${where}: ${probe} (httpGet ${p}) is required`);
          else if (pr.httpGet.path !== p || pr.httpGet.port !== 'http') err(`${where}: ${probe} must GET ${p} on port http`);
        }
        // ADMIN_TOKEN (bootstrap) is optional on the api (secrets.adminToken) and never on a worker.
        const need = contract.secretEnv.filter((n) => !contract.apiOnlySecretEnv.includes(n));
        for (const n of need) if (!env[n]) err(`${where}: env ${n} missing`);
        if (role === 'worker') for (const n of contract.apiOnlySecretEnv) if (env[n]) err(`${where}: a worker must not get ${n}`);
      }
    }
    if (obj.kind === 'Job') {
      const c = spec.containers[0];
      if (JSON.stringify([...(c.command || []), ...(c.args || [])]) !== JSON.stringify(contract.migrateCommand)) err(`${owner}: must run ${contract.migrateCommand.join(' ')}`);
      const hook = (obj.metadata.annotations || {})['helm.sh/hook'] || '';
      if (!hook.split(',').includes('pre-install') || !hook.split(',').includes('pre-upgrade')) err(`${owner}: must be a pre-install,pre-upgrade hook`);
      for (const n of contract.apiOnlySecretEnv) if ((c.env || []).some((e) => e.name === n)) err(`${owner}: must not get ${n}`);
    }
  }

  // The backup CronJob (backup.enabled): one run at a time, bounded, scripts/backup.sh with
  // DATABASE_URL from the Secret and an S3 target, libpq TLS as strict as the app's, and
  // egress to PostgreSQL and HTTPS (S3, STS) under the release's NetworkPolicies.
  for (const cj of byKind('CronJob')) {
    const where = `CronJob/${cj.metadata.name}`;
    const job = cj.spec.jobTemplate.spec;
    const pod = job.template;
    const c = pod.spec.containers[0];
    const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
    if (cj.spec.concurrencyPolicy !== 'Forbid') err(`${where}: concurrencyPolicy must be Forbid (never two dumps at once)`);
    if (!(job.activeDeadlineSeconds > 0)) err(`${where}: the job needs activeDeadlineSeconds`);
    if (pod.spec.restartPolicy !== 'Never') err(`${where}: restartPolicy must be Never (backoffLimit retries with a fresh pod)`);
    const cmd = [...(c.command || []), ...(c.args || [])];
    if (!cmd.some((a) => /scripts\/backup\.sh$/.test(a))) err(`${where}: must run scripts/backup.sh (got ${cmd.join(' ')})`);
    if (!env.DATABASE_URL || !env.DATABASE_URL.valueFrom) err(`${where}: DATABASE_URL must come from the Secret`);
    if (!env.BACKUP_S3_URI || !/^s3:\/\/[^/]+/.test(env.BACKUP_S3_URI.value || '')) err(`${where}: BACKUP_S3_URI must be an s3:// URI`);
    for (const n of contract.apiOnlySecretEnv) if (env[n]) err(`${where}: must not get ${n}`);
    const ssl = configData.DATABASE_SSL || (objects.find((o) => o.kind === 'ConfigMap' && (o.data || {}).DATABASE_SSL) || { data: {} }).data.DATABASE_SSL;
    const wantMode = { off: 'disable', 'no-verify': 'require', 'verify-full': 'verify-full' }[ssl];
    if (wantMode && (!env.PGSSLMODE || env.PGSSLMODE.value !== wantMode)) err(`${where}: DATABASE_SSL=${ssl} needs PGSSLMODE=${wantMode} (got ${env.PGSSLMODE && env.PGSSLMODE.value})`);
    const rootCert = env.PGSSLROOTCERT && env.PGSSLROOTCERT.value;
    if (rootCert && rootCert !== 'system' && !(c.volumeMounts || []).some((m) => m.mountPath === path.posix.dirname(rootCert))) err(`${where}: PGSSLROOTCERT=${rootCert} is not mounted`);
    const nps = byKind('NetworkPolicy');
    if (nps.length) {
      const podLabels = pod.metadata.labels || {};
      const selecting = nps.filter((n) => Object.entries(n.spec.podSelector.matchLabels || {}).every(([k, v]) => podLabels[k] === v));
      const reaches = (port) => selecting.some((n) => (n.spec.egress || []).some((r) => (r.ports || []).some((p) => p.port === port)));
      if (!reaches(5432)) err(`${where}: no NetworkPolicy lets it reach PostgreSQL`);
      if (!reaches(443)) err(`${where}: no NetworkPolicy lets it reach S3 on 443`);
      if (selecting.some((n) => (n.spec.ingress || []).length)) err(`${where}: serves nothing, yet a NetworkPolicy allows ingress to it`);
      for (const n of nps) if (!Object.entries(n.spec.podSelector.matchLabels || {}).every(([k, v]) => podLabels[k] === v) || n.spec.podSelector.matchLabels['app.kubernetes.io/component'] !== 'backup') {
        if ((n.spec.egress || []).some((r) => (r.ports || []).some((p) => p.port === 443))) err(`NetworkPolicy/${n.metadata.name}: HTTPS egress for pods other than the backup`);
      }
    }
  }

  // ConfigMap: only contract env names (for those read as environment), never secrets, plain numbers.
  for (const cm of configMaps) {
    for (const [k, v] of Object.entries(cm.data || {})) {
      if (envConfigMapNames.has(cm.metadata.name) && !contract.configEnv.includes(k)) err(`ConfigMap/${cm.metadata.name}: ${k} is not an env variable of the app`);
      if (contract.secretEnv.includes(k)) err(`ConfigMap/${cm.metadata.name}: secret ${k} in a ConfigMap`);
      if (/^-?\d+(\.\d+)?e[+-]?\d+$/i.test(v)) err(`ConfigMap/${cm.metadata.name}: ${k}=${v} is in exponent notation`);
    }
  }
  // A CA bundle ConfigMap that pods mount before the chart's ConfigMap exists (the migration hook)
  // must be a hook itself, created before the Job.
  for (const cm of configMaps.filter((c) => !envConfigMapNames.has(c.metadata.name))) {
    const mountedByHook = podSpecs(objects).some(({ obj, spec }) => obj.kind === 'Job' && (spec.volumes || []).some((v) => v.configMap && v.configMap.name === cm.metadata.name));
    const hook = ((cm.metadata.annotations || {})['helm.sh/hook'] || '').split(',');
    if (mountedByHook && !(hook.includes('pre-install') && hook.includes('pre-upgrade') && Number((cm.metadata.annotations || {})['helm.sh/hook-weight']) < 0)) err(`ConfigMap/${cm.metadata.name}: mounted by the migration hook Job, so it must be a pre-install,pre-upgrade hook with a negative weight`);
  }
  // Secrets referenced by pods: one name, and produced by the ExternalSecret when there is one.
  const secretNames = new Set();
  for (const { spec } of podSpecs(objects)) for (const c of spec.containers) for (const e of c.env || []) if (e.valueFrom && e.valueFrom.secretKeyRef) secretNames.add(e.valueFrom.secretKeyRef.name);
  if (secretNames.size > 1) err(`pods read more than one Secret: ${[...secretNames]}`);
  for (const es of byKind('ExternalSecret')) {
    if (!secretNames.has(es.spec.target.name)) err(`ExternalSecret/${es.metadata.name} targets ${es.spec.target.name}, pods read ${[...secretNames]}`);
    const hook = (es.metadata.annotations || {})['helm.sh/hook'] || '';
    if (!hook.includes('pre-install')) err(`ExternalSecret/${es.metadata.name} must be a pre-install hook so migrations can read the Secret`);
  }
  // Services select pods and target a named port: "http" for clients, or "metrics" on a
  // metrics-only ClusterIP Service (never both on one Service, never metrics on a public one).
  const metricsOnly = (svc) => svc.spec.ports.every((p) => isMetricsPort(p.targetPort));
  for (const s of services) {
    const sel = s.spec.selector || {};
    const match = deployments.filter((d) => Object.entries(sel).every(([k, v]) => (d.spec.template.metadata.labels || {})[k] === v));
    if (match.length !== 1) err(`Service/${s.metadata.name} selects ${match.length} Deployments`);
    for (const p of s.spec.ports) if (p.targetPort !== 'http' && p.targetPort !== metricsName) err(`Service/${s.metadata.name} must target port "http" (or "${metricsName}" on a metrics-only Service)`);
    if (s.spec.ports.some((p) => isMetricsPort(p.targetPort)) && !metricsOnly(s)) err(`Service/${s.metadata.name} mixes the metrics port with client ports: metrics get a Service of their own`);
    if (metricsOnly(s) && (s.spec.type || 'ClusterIP') !== 'ClusterIP') err(`Service/${s.metadata.name}: a metrics-only Service must be ClusterIP`);
  }
  // Ingress backends exist and are never the metrics port.
  for (const ing of byKind('Ingress')) {
    for (const rule of ing.spec.rules) for (const p of rule.http.paths) {
      const svc = services.find((s) => s.metadata.name === p.backend.service.name);
      if (!svc) err(`Ingress/${ing.metadata.name}: backend ${p.backend.service.name} not rendered`);
      else if (metricsOnly(svc)) err(`Ingress/${ing.metadata.name}: backend ${svc.metadata.name} is a metrics Service`);
      if (['/metrics', '/health', '/'].includes(p.path)) err(`Ingress/${ing.metadata.name}: path ${p.path} exposes internal endpoints`);
    }
    if (!ing.spec.ingressClassName) err(`Ingress/${ing.metadata.name}: ingressClassName missing`);
  }
  // Autoscalers target rendered Deployments; never both HPA and KEDA on one Deployment.
  const targets = new Map();
  for (const h of byKind('HorizontalPodAutoscaler')) targets.set(h.spec.scaleTargetRef.name, [...(targets.get(h.spec.scaleTargetRef.name) || []), 'HPA']);
  for (const so of byKind('ScaledObject')) {
    targets.set(so.spec.scaleTargetRef.name, [...(targets.get(so.spec.scaleTargetRef.name) || []), 'ScaledObject']);
    const redis = so.spec.triggers.find((t) => t.type === 'redis');
    if (!redis) err(`ScaledObject/${so.metadata.name}: no redis trigger`);
    else {
      const prefix = configData.QUEUE_PREFIX || 'sluice';
      const want = `${prefix}:${contract.queueName}:wait`;
      if (redis.metadata.listName !== want) err(`ScaledObject/${so.metadata.name}: listName ${redis.metadata.listName}, want ${want}`);
      if (redis.authenticationRef && !byKind('TriggerAuthentication').some((t) => t.metadata.name === redis.authenticationRef.name)) err(`ScaledObject/${so.metadata.name}: TriggerAuthentication ${redis.authenticationRef.name} not rendered`);
    }
  }
  for (const [name, kinds] of targets) {
    if (!deployments.some((d) => d.metadata.name === name)) err(`autoscaler targets missing Deployment ${name}`);
    if (kinds.length > 1) err(`Deployment ${name} has ${kinds.join(' and ')}`);
  }
  // Deployments with an autoscaler must not pin replicas (the HPA would fight Helm).
  for (const d of deployments) if (targets.has(d.metadata.name) && d.spec.replicas !== undefined) err(`Deployment/${d.metadata.name}: replicas set while autoscaled`);
  // PDBs select pods.
  for (const pdb of byKind('PodDisruptionBudget')) {
    const sel = pdb.spec.selector.matchLabels;
    if (!deployments.some((d) => Object.entries(sel).every(([k, v]) => d.spec.template.metadata.labels[k] === v))) err(`PodDisruptionBudget/${pdb.metadata.name} selects nothing`);
  }
  // NetworkPolicies: a default deny for both directions, and egress limited to DNS/PostgreSQL/Redis.
  const nps = byKind('NetworkPolicy');
  if (nps.length) {
    const deny = nps.find((n) => !n.spec.ingress && !n.spec.egress && ['Ingress', 'Egress'].every((t) => (n.spec.policyTypes || []).includes(t)));
    if (!deny) err('NetworkPolicies rendered without a default deny');
    for (const n of nps) for (const rule of n.spec.egress || []) {
      for (const p of rule.ports || []) if (![53, 5432, 6379].includes(p.port) && !rule.to.every((t) => t.ipBlock)) err(`NetworkPolicy/${n.metadata.name}: unexpected egress port ${p.port}`);
    }
    // The metrics port only in rules of its own, from namespace+pod selected peers (Prometheus),
    // never from the peers that reach the HTTP port (the ingress controller).
    const peerKey = (peer) => JSON.stringify(peer);
    const httpPeers = new Set();
    const metricsRules = [];
    for (const n of nps) for (const rule of n.spec.ingress || []) {
      const ports = rule.ports || [];
      if (!ports.length) err(`NetworkPolicy/${n.metadata.name}: an ingress rule without ports opens every port, the metrics port included`);
      const opensMetrics = ports.some((p) => isMetricsPort(p.port));
      if (opensMetrics) {
        metricsRules.push({ n, rule });
        if (!ports.every((p) => isMetricsPort(p.port))) err(`NetworkPolicy/${n.metadata.name}: the metrics port shares a rule with other ports`);
        if (!(rule.from || []).length || rule.from.some((peer) => peer.ipBlock || !peer.namespaceSelector || !peer.podSelector)) err(`NetworkPolicy/${n.metadata.name}: the metrics port must be open to namespace- and pod-selected peers (Prometheus) only`);
      } else for (const peer of rule.from || []) httpPeers.add(peerKey(peer));
    }
    for (const { n, rule } of metricsRules) for (const peer of rule.from || []) if (httpPeers.has(peerKey(peer))) err(`NetworkPolicy/${n.metadata.name}: the peers of the HTTP port (ingress controller) also reach the metrics port`);
    for (const d of deployments) {
      const comp = d.spec.template.metadata.labels['app.kubernetes.io/component'];
      const allow = metricsRules.find(({ n }) => n.spec.podSelector.matchLabels['app.kubernetes.io/component'] === comp);
      if (!allow) err(`Deployment/${d.metadata.name}: no NetworkPolicy lets Prometheus scrape its metrics port`);
    }
  }
  // Scraping: either a ServiceMonitor or annotations on every Deployment (unless explicitly off).
  const sm = byKind('ServiceMonitor');
  for (const d of deployments) {
    const ann = d.spec.template.metadata.annotations || {};
    if (!sm.length && ann['prometheus.io/scrape'] !== 'true' && !setName.includes('minimal')) err(`Deployment/${d.metadata.name}: not scraped (no ServiceMonitor, no annotations)`);
    if (sm.length && ann['prometheus.io/scrape']) err(`Deployment/${d.metadata.name}: both ServiceMonitor and scrape annotations (double scraping)`);
  }
  const wantPort = metricsPort !== null ? metricsName : 'http';
  for (const m of sm) {
    for (const e of m.spec.endpoints) if (e.path !== '/metrics' || e.port !== wantPort) err(`ServiceMonitor/${m.metadata.name}: must scrape /metrics on port ${wantPort}`);
    // The Services it selects: the metrics-only ones, one per Deployment.
    const sel = m.spec.selector || {};
    const selected = services.filter((svc) => {
      const l = svc.metadata.labels || {};
      return Object.entries(sel.matchLabels || {}).every(([k, v]) => l[k] === v)
        && (sel.matchExpressions || []).every((x) => x.operator !== 'In' || x.values.includes(l[x.key]));
    });
    for (const svc of selected) if (!svc.spec.ports.some((p) => p.name === wantPort)) err(`ServiceMonitor/${m.metadata.name} selects Service/${svc.metadata.name}, which has no port "${wantPort}"`);
    for (const d of deployments) {
      const backed = selected.some((svc) => Object.entries(svc.spec.selector || {}).every(([k, v]) => (d.spec.template.metadata.labels || {})[k] === v));
      if (!backed) err(`ServiceMonitor/${m.metadata.name}: no selected Service covers Deployment/${d.metadata.name}`);
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Secrets the api gets only while a value turns them on (contract.optionalSecretEnv: ADMIN_TOKEN
// with secrets.adminToken, DATABASE_READ_URL with readReplica.enabled): for every value set the
// api container has the variable exactly when the merged values say so, from the Secret of
// DATABASE_URL under a key of the same name; never the worker or the migration Job (policy).
// Each one is also rendered on and off from the defaults, and the value sets must cover both.
function getPath(obj, p) {
  return p.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), obj);
}

function optionalSecrets(sets, rendered) {
  const name = 'optional secrets (ADMIN_TOKEN, DATABASE_READ_URL): on the api exactly when enabled, from the Secret of DATABASE_URL';
  const errors = [];
  const defaults = yaml.load(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
  const cases = rendered.map(({ set, docs }) => {
    const files = (sets.find((s) => s.name === set) || { files: [] }).files.map((f) => yaml.load(fs.readFileSync(f, 'utf8')) || {});
    return { set, docs, values: [defaults, ...files] };
  });
  // The defaults with each optional secret turned on and off explicitly.
  for (const valuePath of Object.values(contract.optionalSecretEnv)) {
    for (const on of [true, false]) {
      const set = `defaults --set ${valuePath}=${on}`;
      const tpl = run(['template', 'sluice', CHART, '--namespace', 'sluice', '--set', `${valuePath}=${on}`]);
      if (tpl.status !== 0) { errors.push(`helm template ${set}:\n${tpl.stderr}`); continue; }
      const override = valuePath.split('.').reduceRight((acc, k) => ({ [k]: acc }), on);
      cases.push({ set, docs: yaml.loadAll(tpl.stdout).filter(Boolean), values: [defaults, override] });
    }
  }
  const seen = {};
  for (const { set, docs, values } of cases) {
    for (const d of docs.filter((o) => o.kind === 'Deployment')) {
      for (const c of d.spec.template.spec.containers) {
        const where = `${set} Deployment/${d.metadata.name} container ${c.name}`;
        const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
        const role = env.ROLE && env.ROLE.value;
        const dbSecret = env.DATABASE_URL && env.DATABASE_URL.valueFrom && env.DATABASE_URL.valueFrom.secretKeyRef && env.DATABASE_URL.valueFrom.secretKeyRef.name;
        for (const [n, valuePath] of Object.entries(contract.optionalSecretEnv)) {
          const enabled = values.reduce((v, layer) => (getPath(layer, valuePath) !== undefined ? getPath(layer, valuePath) : v), undefined) === true;
          const want = enabled && role !== 'worker';
          if (role !== 'worker') (seen[n] = seen[n] || new Set()).add(enabled);
          if (want && !env[n]) errors.push(`${where}: ${valuePath} is true but ${n} is not set`);
          if (!want && env[n]) errors.push(`${where}: ${n} is set although ${role === 'worker' ? 'this is a worker' : `${valuePath} is false`}`);
          const ref = env[n] && env[n].valueFrom && env[n].valueFrom.secretKeyRef;
          if (env[n] && (!ref || ref.key !== n || ref.name !== dbSecret)) errors.push(`${where}: ${n} must come from Secret ${dbSecret} (the one DATABASE_URL reads), key ${n}`);
        }
      }
    }
  }
  for (const [n, valuePath] of Object.entries(contract.optionalSecretEnv)) {
    const s = seen[n] || new Set();
    if (!s.has(true) || !s.has(false)) errors.push(`the value sets never render the api with ${valuePath}=${!s.has(true)} (${n}): add a ci/ values file`);
  }
  report(name, `${cases.length} renderings`, errors);
}

// ---------------------------------------------------------------------------------------------
// Every value in values.yaml documented in the chart README.
const PASS_THROUGH = ['podSecurityContext', 'containerSecurityContext', 'resources', 'namespaceSelector', 'podSelector', 'hosts', 'tls'];
function valuePaths(obj, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length && !PASS_THROUGH.includes(k)) out.push(...valuePaths(v, p));
    else out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The chart against the app's own validation (src/config/environment.ts): every variable the
// app reads is in the contract, the chart's config carries every non-secret one, the schema is
// at least as strict as the app, and every rendered value is one the app accepts.
function appContract(values, rendered) {
  const name = 'chart config vs the app (src/config/environment.ts): coverage, schema bounds, rendered values';
  const app = appEnvironment();
  if (!app) return skip(name, 'src/config/environment.ts not found');
  const errors = [];
  const schema = JSON.parse(fs.readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')).properties.config.properties;
  const known = [...contract.configEnv, ...contract.secretEnv];
  for (const n of Object.keys(app.variables)) if (!known.includes(n)) errors.push(`${n} is read by the app but missing from deploy/check/lib/contract.js`);
  for (const n of app.documented) if (!app.variables[n]) errors.push(`${n} is documented in VARIABLES but not validated by EnvironmentVariables`);
  for (const n of known) if (!app.variables[n]) errors.push(`${n} is in the contract but the app does not read it`);
  const carried = contract.configEnv.filter((n) => !contract.perDeploymentEnv.includes(n));
  for (const n of carried) {
    if (!(n in values.config)) errors.push(`values.yaml config does not carry ${n}`);
    if (!schema[n]) errors.push(`values.schema.json config does not type ${n}`);
  }
  for (const [n, s] of Object.entries(schema)) {
    const v = app.variables[n];
    if (!v) continue;
    if (v.kind === 'int') {
      if (s.type !== 'integer') errors.push(`schema ${n}: the app wants an integer`);
      if (v.min !== undefined && !(s.minimum >= v.min)) errors.push(`schema ${n}: minimum ${s.minimum} allows values below the app's ${v.min}`);
      if (v.max !== undefined && !(s.maximum <= v.max)) errors.push(`schema ${n}: maximum ${s.maximum} allows values above the app's ${v.max}`);
    } else if (v.kind === 'bool' && s.type !== 'boolean') errors.push(`schema ${n}: the app wants a boolean`);
    else if (v.kind === 'enum' && Array.isArray(v.values)) {
      const extra = (s.enum || []).filter((x) => !v.values.includes(x));
      if (!s.enum || extra.length) errors.push(`schema ${n}: allows ${extra.join(', ') || 'anything'}, the app only ${v.values.join(', ')}`);
    }
    if (values.config[n] !== undefined) {
      const why = refusal(v, values.config[n]);
      if (why) errors.push(`values.yaml: ${why}`);
    }
  }
  let checked = 0;
  for (const { set, docs } of rendered) {
    for (const cm of docs.filter((d) => d.kind === 'ConfigMap')) {
      for (const [k, val] of Object.entries(cm.data || {})) {
        const v = app.variables[k];
        if (!v) continue;
        checked++;
        const why = refusal(v, val);
        if (why) errors.push(`${set} ConfigMap/${cm.metadata.name}: ${why}`);
      }
    }
  }
  report(name, `${Object.keys(app.variables).length} app variables, ${carried.length} carried by the chart, ${checked} rendered values accepted`, errors);
}

// ---------------------------------------------------------------------------------------------
// deploy/scripts/sluice-cli.sh builds its one-off pod from the api Deployment. Run it with -p
// (print the manifest) against every rendered api Deployment, through a stand-in kubectl, and
// hold the pod to the same rules: valid, hardened, no ADMIN_TOKEN, and selected by the egress
// NetworkPolicy so it can reach PostgreSQL and Redis.
function cliPods(rendered) {
  const name = 'operator CLI pod (deploy/scripts/sluice-cli.sh -p) from every api Deployment';
  const script = path.join(REPO_ROOT, 'deploy/scripts/sluice-cli.sh');
  if (!fs.existsSync(script)) return skip(name, 'deploy/scripts/sluice-cli.sh not found');
  if (spawnSync('sh', ['-c', 'command -v jq'], { encoding: 'utf8' }).status !== 0) return skip(name, 'jq not on PATH');
  const tmp = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'sluice-cli-check-'));
  const errors = [];
  const pods = [];
  try {
    fs.writeFileSync(path.join(tmp, 'kubectl'), '#!/bin/sh\ncat "$FAKE_DEPLOYMENT"\n', { mode: 0o755 });
    for (const { set, docs } of rendered) {
      const api = docs.find((d) => d.kind === 'Deployment' && /-api$/.test(d.metadata.name));
      if (!api) continue;
      const file = path.join(tmp, 'deployment.json');
      fs.writeFileSync(file, JSON.stringify(api));
      const r = spawnSync('bash', [script, '-p', '-d', api.metadata.name, 'keys:list'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${tmp}:${process.env.PATH}`, FAKE_DEPLOYMENT: file, USER: 'check' },
      });
      if (r.status !== 0) { errors.push(`${set}: sluice-cli.sh -p failed: ${r.stderr}`); continue; }
      const pod = JSON.parse(r.stdout);
      const where = `${set} Pod/${pod.metadata.name}`;
      errors.push(...validateSchema(pod, where));
      pods.push({ obj: pod, where });
      // The chart's own pod rules, on a pod-shaped object.
      errors.push(...policy([{ kind: 'Pod', metadata: pod.metadata, spec: { template: { metadata: pod.metadata, spec: pod.spec } } }, ...docs.filter((d) => d.kind === 'ConfigMap')], where));
      const c = pod.spec.containers[0];
      const env = (c.env || []).map((e) => e.name);
      for (const n of contract.apiOnlySecretEnv) if (env.includes(n)) errors.push(`${where}: must not get ${n}`);
      for (const n of ['DATABASE_URL', 'REDIS_URL']) if (!env.includes(n)) errors.push(`${where}: env ${n} missing`);
      if ((c.ports || []).length || c.readinessProbe || c.livenessProbe) errors.push(`${where}: a CLI pod has no ports or probes`);
      if (!(pod.spec.activeDeadlineSeconds > 0) || pod.spec.restartPolicy !== 'Never') errors.push(`${where}: needs activeDeadlineSeconds and restartPolicy Never`);
      // The egress policies that open PostgreSQL or Redis (not the backup's HTTPS one).
      const dataEgress = (np) => np.spec.egress.some((r) => (r.ports || []).some((p) => [5432, 6379].includes(p.port)));
      for (const np of docs.filter((d) => d.kind === 'NetworkPolicy' && d.spec.egress && dataEgress(d))) {
        const sel = np.spec.podSelector.matchLabels || {};
        if (!Object.entries(sel).every(([k, v]) => pod.metadata.labels[k] === v)) errors.push(`${where}: not selected by NetworkPolicy/${np.metadata.name} (no egress to PostgreSQL/Redis)`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  errors.push(...typecheck(pods));
  report(name, `${pods.length} pods: schema, strict types, security, env, NetworkPolicy egress`, errors);
}

function main() {
  const sets = valueSets();
  const lintErrors = [];
  const schemaErrors = [];
  const policyErrors = [];
  const all = [];
  const rendered = [];
  for (const set of sets) {
    const lint = run(['lint', '--strict', CHART, ...helmArgs(set.files)]);
    if (lint.status !== 0) lintErrors.push(`helm lint ${set.name}:\n${lint.stdout}${lint.stderr}`);
    const tpl = run(['template', 'sluice', CHART, '--namespace', 'sluice', ...helmArgs(set.files)]);
    if (tpl.status !== 0) {
      lintErrors.push(`helm template ${set.name}:\n${tpl.stderr}`);
      continue;
    }
    const docs = yaml.loadAll(tpl.stdout).filter(Boolean);
    for (const d of docs) {
      const where = `${set.name} ${d.kind}/${d.metadata && d.metadata.name}`;
      schemaErrors.push(...validateSchema(d, where));
      all.push({ obj: d, where });
    }
    policyErrors.push(...policy(docs, set.name));
    rendered.push({ set: set.name, docs });
  }
  report('helm lint --strict + helm template', `${sets.length} value sets (${sets.map((s) => s.name).join(', ')})`, lintErrors);
  report('kubernetes schemas (kubernetes-models)', `${all.length} rendered objects`, schemaErrors);
  report('kubernetes strict types: unknown fields (tsc)', `${all.length} rendered objects`, typecheck(all));
  report('chart policy: securityContext, probes, env, references, autoscaling, netpol', `${sets.length} value sets`, policyErrors);

  // Bad value sets must fail, each for its stated reason.
  const badErrors = [];
  const bad = fs.readdirSync(BAD_VALUES).filter((f) => f.endsWith('.yaml')).sort();
  for (const f of bad) {
    const file = path.join(BAD_VALUES, f);
    const m = /^# expect: (.+)$/m.exec(fs.readFileSync(file, 'utf8'));
    if (!m) { badErrors.push(`${f}: no "# expect: <regex>" line`); continue; }
    const res = run(['template', 'sluice', CHART, '-f', file]);
    if (res.status === 0) badErrors.push(`${f}: helm template succeeded, expected failure matching /${m[1]}/`);
    else if (!new RegExp(m[1]).test(res.stderr)) badErrors.push(`${f}: failed for another reason than /${m[1]}/:\n${res.stderr}`);
  }
  report('values.schema.json rejects bad values', `${bad.length} bad value sets fail as expected`, badErrors);

  const values = yaml.load(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
  appContract(values, rendered);
  optionalSecrets(sets, rendered);
  cliPods(rendered);
  const readme = fs.readFileSync(path.join(CHART, 'README.md'), 'utf8');
  const paths = valuePaths(values);
  const undocumented = paths.filter((p) => !readme.includes('`' + p + '`'));
  report('chart README documents every value', `${paths.length} values`, undocumented.map((p) => `README.md does not document \`${p}\``));
}

try {
  main();
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}

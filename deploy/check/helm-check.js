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
const { report } = require('./lib/report');

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
    const spec = o.spec && o.spec.template && o.spec.template.spec;
    if (spec) out.push({ owner: `${o.kind}/${o.metadata.name}`, obj: o, spec });
  }
  return out;
}

function policy(objects, setName) {
  const errors = [];
  const err = (m) => errors.push(`${setName}: ${m}`);
  const byKind = (k) => objects.filter((o) => o.kind === k);
  const configMaps = byKind('ConfigMap');
  const deployments = byKind('Deployment');
  const services = byKind('Service');

  for (const { owner, obj, spec } of podSpecs(objects)) {
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
      for (const ef of c.envFrom || []) {
        if (ef.configMapRef && !configMaps.some((cm) => cm.metadata.name === ef.configMapRef.name)) err(`${where}: envFrom ConfigMap ${ef.configMapRef.name} is not rendered`);
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
        if (JSON.stringify([...(c.command || []), ...(c.args || [])]) !== JSON.stringify(contract.appCommand)) err(`${where}: must run ${contract.appCommand.join(' ')}`);
        for (const [probe, p] of [['startupProbe', contract.liveness], ['livenessProbe', contract.liveness], ['readinessProbe', contract.readiness]]) {
          const pr = c[probe];
          if (!pr || !pr.httpGet) err(`${where}: ${probe} (httpGet ${p}) is required`);
          else if (pr.httpGet.path !== p || pr.httpGet.port !== 'http') err(`${where}: ${probe} must GET ${p} on port http`);
        }
        const need = role === 'worker' ? ['DATABASE_URL', 'REDIS_URL'] : contract.secretEnv;
        for (const n of need) if (!env[n]) err(`${where}: env ${n} missing`);
      }
    }
    if (obj.kind === 'Job') {
      const c = spec.containers[0];
      if (JSON.stringify([...(c.command || []), ...(c.args || [])]) !== JSON.stringify(contract.migrateCommand)) err(`${owner}: must run ${contract.migrateCommand.join(' ')}`);
      const hook = (obj.metadata.annotations || {})['helm.sh/hook'] || '';
      if (!hook.split(',').includes('pre-install') || !hook.split(',').includes('pre-upgrade')) err(`${owner}: must be a pre-install,pre-upgrade hook`);
    }
  }

  // ConfigMap: only contract env names, never secrets, plain numbers.
  for (const cm of configMaps) {
    for (const [k, v] of Object.entries(cm.data || {})) {
      if (!contract.configEnv.includes(k)) err(`ConfigMap/${cm.metadata.name}: ${k} is not an env variable of the app`);
      if (contract.secretEnv.includes(k)) err(`ConfigMap/${cm.metadata.name}: secret ${k} in a ConfigMap`);
      if (/^-?\d+(\.\d+)?e[+-]?\d+$/i.test(v)) err(`ConfigMap/${cm.metadata.name}: ${k}=${v} is in exponent notation`);
    }
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
  // Services select pods and target the named port.
  for (const s of services) {
    const sel = s.spec.selector || {};
    const match = deployments.filter((d) => Object.entries(sel).every(([k, v]) => (d.spec.template.metadata.labels || {})[k] === v));
    if (match.length !== 1) err(`Service/${s.metadata.name} selects ${match.length} Deployments`);
    for (const p of s.spec.ports) if (p.targetPort !== 'http') err(`Service/${s.metadata.name} must target port "http"`);
  }
  // Ingress backends exist.
  for (const ing of byKind('Ingress')) {
    for (const rule of ing.spec.rules) for (const p of rule.http.paths) {
      const svc = services.find((s) => s.metadata.name === p.backend.service.name);
      if (!svc) err(`Ingress/${ing.metadata.name}: backend ${p.backend.service.name} not rendered`);
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
      const prefix = (configMaps[0] && configMaps[0].data.QUEUE_PREFIX) || 'sluice';
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
    for (const d of deployments) {
      const comp = d.spec.template.metadata.labels['app.kubernetes.io/component'];
      const allow = nps.find((n) => n.spec.ingress && n.spec.podSelector.matchLabels['app.kubernetes.io/component'] === comp);
      if (!allow) err(`Deployment/${d.metadata.name}: no NetworkPolicy lets Prometheus scrape it`);
    }
  }
  // Scraping: either a ServiceMonitor or annotations on every Deployment (unless explicitly off).
  const sm = byKind('ServiceMonitor');
  for (const d of deployments) {
    const ann = d.spec.template.metadata.annotations || {};
    if (!sm.length && ann['prometheus.io/scrape'] !== 'true' && !setName.includes('minimal')) err(`Deployment/${d.metadata.name}: not scraped (no ServiceMonitor, no annotations)`);
    if (sm.length && ann['prometheus.io/scrape']) err(`Deployment/${d.metadata.name}: both ServiceMonitor and scrape annotations (double scraping)`);
  }
  for (const s of sm) for (const e of s.spec.endpoints) if (e.path !== '/metrics' || e.port !== 'http') err(`ServiceMonitor/${s.metadata.name}: must scrape /metrics on port http`);
  return errors;
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

function main() {
  const sets = valueSets();
  const lintErrors = [];
  const schemaErrors = [];
  const policyErrors = [];
  const all = [];
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

#!/usr/bin/env node
'use strict';
// Observability assets: the Prometheus rules parse and are complete (severity, summary,
// description, runbook_url into an existing runbook heading), the Grafana dashboard is well
// formed and covers what operators need, and every metric name belongs to the app's contract.
// With promtool on PATH (Debian package `prometheus`), also `promtool check rules` and the
// rule unit tests; without it, those two are skipped with a message.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const yaml = require('js-yaml');
const { REPO_ROOT } = require('./lib/tools');
const { report, skip } = require('./lib/report');
const metricNames = require('./metric-names');

const MON = path.join(REPO_ROOT, 'deploy/monitoring');
const RUNBOOKS = path.join(REPO_ROOT, 'docs/runbooks');
const RUNBOOK_URL = /^https:\/\/github\.com\/sluice\/sluice\/blob\/main\/(docs\/runbooks\/[a-z0-9-]+\.md)#([a-z0-9-]+)$/;
const SEVERITIES = ['page', 'ticket', 'info'];
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

// Metrics the app exports (the contract); anything else in the assets is a typo or an invention.
// Compared with src/metrics/metrics.service.ts below (a note while the two differ: the app is
// built in parallel; the e2e test compares the assets with a live /metrics page).
const APP_METRICS = new Set([
  'http_request_duration_seconds', 'sluice_events_received_total', 'sluice_events_rejected_total',
  'sluice_events_persisted_total', 'sluice_events_deduplicated_total', 'sluice_events_dead_lettered_total',
  'sluice_queue_jobs', 'sluice_queue_backlog_events', 'sluice_backlog_limit_events',
  'sluice_end_to_end_lag_seconds', 'sluice_db_write_duration_seconds', 'sluice_enqueue_duration_seconds',
  'sluice_throttled_requests_total', 'sluice_throttled_events_total', 'sluice_backpressure_rejections_total',
  // Reliability: enqueues refused, PostgreSQL outages held through, Redis durability, the
  // consumer, stalled / poison jobs, the failed-job sweep, stray partition rows, key-lookup
  // floods, data errors that slipped past validation.
  'sluice_enqueue_failures_total', 'sluice_database_available', 'sluice_database_outage_retries_total',
  'sluice_redis_durability', 'sluice_consumer_up', 'sluice_jobs_stalled_total', 'sluice_jobs_orphaned_total', 'sluice_jobs_split_total',
  'sluice_failed_jobs_swept_total', 'sluice_events_default_partition_rows', 'sluice_key_lookups_refused_total',
  'sluice_unhandled_data_errors_total',
  // Query API: answer latency per endpoint (cache hit, miss or off) and the aggregate cache.
  'sluice_query_duration_seconds', 'sluice_query_cache_total',
  'sluice_dead_letter_replays_total', 'sluice_dead_letter_discards_total', 'sluice_dead_letters_pending',
  'sluice_events_suppressed_total',
  'sluice_privacy_deletions_total', 'sluice_privacy_deleted_rows_total', 'sluice_privacy_deletions_open',
  // Retention: the scheduled task's last success, interval and duration (every worker reports them), what it removed.
  'sluice_scheduled_job_last_success_timestamp_seconds', 'sluice_scheduled_job_interval_seconds', 'sluice_scheduled_job_last_duration_seconds',
  'sluice_retention_removed_rows_total', 'sluice_retention_partitions_dropped_total',
  // Tracking plans: violations by action and kind, plan reloads on each api.
  'sluice_tracking_plan_violations_total', 'sluice_tracking_plan_reloads_total',
  // Live debugger: streams served, events published or sampled out.
  'sluice_live_listeners', 'sluice_live_events_total',
]);
// prom-client default metrics.
const DEFAULT_METRIC = /^(process_|nodejs_)/;
// Labels Prometheus adds when it scrapes (ServiceMonitor relabelings, compose static labels, histograms).
const TARGET_LABELS = new Set(['namespace', 'pod', 'instance', 'job', 'role', 'container', 'service', 'endpoint', 'le', 'quantile']);
const METRICS_SOURCE = path.join(REPO_ROOT, 'src/metrics/metrics.service.ts');

/** name -> label names, from the metric definitions of src/metrics/metrics.service.ts (null without it). */
function sourceMetrics() {
  if (!fs.existsSync(METRICS_SOURCE)) return null;
  const text = fs.readFileSync(METRICS_SOURCE, 'utf8');
  const out = new Map();
  for (const m of text.matchAll(/new (?:Counter|Gauge|Histogram|Summary)\(\{([\s\S]*?)\}\)/g)) {
    const name = /\bname:\s*'([^']+)'/.exec(m[1]);
    if (!name) continue;
    const labels = /\blabelNames:\s*\[([^\]]*)\]/.exec(m[1]);
    out.set(name[1], new Set(labels ? [...labels[1].matchAll(/'([^']+)'/g)].map((l) => l[1]) : []));
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function slug(heading) {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}
function anchorsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  return new Set(text.split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
}

function balanced(expr) {
  const pairs = { ')': '(', ']': '[', '}': '{' };
  const stack = [];
  const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const ch of s) {
    if ('([{'.includes(ch)) stack.push(ch);
    else if (pairs[ch]) { if (stack.pop() !== pairs[ch]) return false; }
  }
  return stack.length === 0;
}

function checkRules() {
  const errors = [];
  const files = fs.readdirSync(path.join(MON, 'alerts')).filter((f) => /\.ya?ml$/.test(f) && !f.includes('test'));
  const alerts = new Map();
  let ruleCount = 0;
  for (const f of files) {
    const file = path.join(MON, 'alerts', f);
    const text = fs.readFileSync(file, 'utf8');
    let doc;
    try { doc = yaml.load(text); } catch (e) { errors.push(`${f}: YAML: ${e.message}`); continue; }
    if (!doc || !Array.isArray(doc.groups) || !doc.groups.length) { errors.push(`${f}: no groups`); continue; }
    const unknownTop = Object.keys(doc).filter((k) => k !== 'groups');
    if (unknownTop.length) errors.push(`${f}: unknown top-level keys ${unknownTop}`);
    const groupNames = new Set();
    const flat = [];
    for (const g of doc.groups) {
      if (!g.name || groupNames.has(g.name)) errors.push(`${f}: group without a unique name`);
      groupNames.add(g.name);
      const extra = Object.keys(g).filter((k) => !['name', 'interval', 'rules', 'limit', 'query_offset', 'labels'].includes(k));
      if (extra.length) errors.push(`${f} group ${g.name}: unknown keys ${extra}`);
      if (g.interval && !DURATION.test(g.interval)) errors.push(`${f} group ${g.name}: bad interval ${g.interval}`);
      for (const r of g.rules || []) {
        ruleCount++;
        flat.push(r);
        const id = r.alert || r.record || '(unnamed)';
        const where = `${f} ${g.name}/${id}`;
        if (!!r.alert === !!r.record) errors.push(`${where}: exactly one of alert / record`);
        const extraR = Object.keys(r).filter((k) => !['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'].includes(k));
        if (extraR.length) errors.push(`${where}: unknown keys ${extraR}`);
        if (typeof r.expr !== 'string' || !r.expr.trim()) { errors.push(`${where}: expr missing`); continue; }
        if (!balanced(r.expr)) errors.push(`${where}: unbalanced brackets in expr`);
        if (/\$\w|\$\{/.test(r.expr)) errors.push(`${where}: Grafana variable in a Prometheus rule`);
        if (r.for && !DURATION.test(r.for)) errors.push(`${where}: bad for: ${r.for}`);
        if (r.record) {
          if (!/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/.test(r.record)) errors.push(`${where}: recording rule names are level:metric:operations`);
          if (r.annotations || r.for) errors.push(`${where}: recording rules take no annotations / for`);
          continue;
        }
        if (!/^Sluice[A-Z][A-Za-z0-9]+$/.test(r.alert)) errors.push(`${where}: alert names are SluiceCamelCase`);
        if (alerts.has(r.alert)) errors.push(`${where}: duplicate alert name`);
        alerts.set(r.alert, r);
        const labels = r.labels || {};
        if (!SEVERITIES.includes(labels.severity)) errors.push(`${where}: labels.severity must be one of ${SEVERITIES}`);
        const ann = r.annotations || {};
        for (const k of ['summary', 'description', 'runbook_url']) if (!ann[k]) errors.push(`${where}: annotations.${k} missing`);
        const m = RUNBOOK_URL.exec(ann.runbook_url || '');
        if (!m) errors.push(`${where}: runbook_url must be https://github.com/sluice/sluice/blob/main/docs/runbooks/<file>.md#<anchor> (got ${ann.runbook_url})`);
        else {
          const rb = path.join(REPO_ROOT, m[1]);
          if (!fs.existsSync(rb)) errors.push(`${where}: runbook ${m[1]} does not exist`);
          else if (!anchorsOf(rb).has(m[2])) errors.push(`${where}: ${m[1]} has no heading for #${m[2]}`);
        }
        // {{ $labels.x }} must be a label the expression keeps.
        const kept = new Set(['namespace']);
        for (const b of r.expr.matchAll(/\bby\s*\(([^)]*)\)/g)) for (const l of b[1].split(',')) kept.add(l.trim());
        for (const k of Object.keys(labels)) kept.add(k);
        for (const txt of Object.values(ann)) for (const u of String(txt).matchAll(/\$labels\.(\w+)/g)) if (!kept.has(u[1])) errors.push(`${where}: annotation uses $labels.${u[1]}, which the expression aggregates away`);
      }
    }
    // The dependency-free parser of metric-names.js must see the same rules as a real YAML parse.
    const light = metricNames.parseRuleFile(text);
    if (light.length !== flat.length || light.some((r, i) => (r.alert || r.record) !== (flat[i].alert || flat[i].record) || r.expr.replace(/\s+/g, ' ').trim() !== flat[i].expr.replace(/\s+/g, ' ').trim())) {
      errors.push(`${f}: metric-names.js parseRuleFile disagrees with js-yaml (keep expr inline or in a | block)`);
    }
  }
  // Alerts the issue asks for, recognised by the metric they watch.
  const need = {
    'lag above SLO': /sluice_end_to_end_lag_seconds_bucket/,
    'DLQ growing': /sluice_events_dead_lettered_total/,
    '5xx ratio': /status_code=~"5\.\."/,
    'backlog near the backpressure limit': /sluice_queue_backlog_events[\s\S]*sluice_backlog_limit_events/,
    'no events persisted while received': /sluice_events_received_total[\s\S]*sluice_events_persisted_total/,
  };
  for (const [what, re] of Object.entries(need)) if (![...alerts.values()].some((r) => re.test(r.expr))) errors.push(`no alert for ${what}`);
  report('prometheus rules parse and are complete (severity, summary, runbook_url -> docs/runbooks heading)', `${ruleCount} rules, ${alerts.size} alerts`, errors);
  return files.map((f) => path.join(MON, 'alerts', f));
}

function checkDashboards() {
  const errors = [];
  const dir = path.join(MON, 'dashboards');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  let panelCount = 0;
  const uids = new Set();
  for (const f of files) {
    let d;
    try { d = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch (e) { errors.push(`${f}: ${e.message}`); continue; }
    if (!d.uid || uids.has(d.uid)) errors.push(`${f}: missing or duplicate uid`);
    uids.add(d.uid);
    if (!d.title || !Number.isInteger(d.schemaVersion)) errors.push(`${f}: title and schemaVersion required`);
    if (d.id !== undefined && d.id !== null) errors.push(`${f}: remove the instance-specific "id" (provisioned dashboards are keyed by uid)`);
    const vars = ((d.templating || {}).list || []);
    if (!vars.some((v) => v.type === 'datasource' && v.name === 'datasource' && v.query === 'prometheus')) errors.push(`${f}: needs a prometheus datasource variable named "datasource"`);
    const ids = new Set();
    const boxes = [];
    const exprs = [];
    for (const p of d.panels || []) {
      panelCount++;
      if (!Number.isInteger(p.id) || ids.has(p.id)) errors.push(`${f}: panel "${p.title}" needs a unique integer id`);
      ids.add(p.id);
      const g = p.gridPos || {};
      if (![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.x < 0 || g.x + g.w > 24) errors.push(`${f}: panel "${p.title}" has a bad gridPos`);
      for (const b of boxes) if (g.x < b.x + b.w && b.x < g.x + g.w && g.y < b.y + b.h && b.y < g.y + g.h) errors.push(`${f}: panels "${p.title}" and "${b.title}" overlap`);
      boxes.push({ ...g, title: p.title });
      if (p.type === 'row') continue;
      if (!p.title || !p.description) errors.push(`${f}: panel ${p.id} needs a title and a description`);
      if (!p.datasource || p.datasource.uid !== '${datasource}') errors.push(`${f}: panel "${p.title}" must use the \${datasource} variable`);
      if (!Array.isArray(p.targets) || !p.targets.length) errors.push(`${f}: panel "${p.title}" has no queries`);
      for (const t of p.targets || []) {
        if (!t.expr || !balanced(t.expr)) errors.push(`${f}: panel "${p.title}" query ${t.refId} missing or unbalanced`);
        else exprs.push({ title: p.title, expr: t.expr, legend: t.legendFormat || '' });
        if (t.expr && /\[\d+[smh]\]/.test(t.expr) && /rate\(/.test(t.expr) && !/increase\(/.test(t.expr)) errors.push(`${f}: panel "${p.title}": use [$__rate_interval] for rate()`);
        if (t.expr && !t.expr.includes('$namespace')) errors.push(`${f}: panel "${p.title}" ignores the $namespace variable`);
      }
    }
    // What the issue asks the dashboard to show.
    const has = (re) => exprs.some((e) => re.test(e.expr));
    const need = {
      'ingest rate': /rate\(sluice_events_received_total/,
      'rejects by reason': /by \(reason\)[\s\S]*sluice_events_rejected_total/,
      throttles: /sluice_throttled_(requests|events)_total/,
      'queue depth': /sluice_queue_jobs/,
      'end-to-end lag p50': /histogram_quantile\(0\.5,[\s\S]*sluice_end_to_end_lag_seconds_bucket/,
      'end-to-end lag p95': /histogram_quantile\(0\.95,[\s\S]*sluice_end_to_end_lag_seconds_bucket/,
      'end-to-end lag p99': /histogram_quantile\(0\.99,[\s\S]*sluice_end_to_end_lag_seconds_bucket/,
      'DB write latency': /sluice_db_write_duration_seconds_bucket/,
      'HTTP latency per route': /histogram_quantile\([\s\S]*by \(le, route\)[\s\S]*http_request_duration_seconds_bucket/,
      'HTTP error rate per route': /by \(route\)[\s\S]*status_code=~"5\.\."/,
      'DLQ size': /sluice_events_dead_lettered_total/,
    };
    for (const [what, re] of Object.entries(need)) if (!has(re)) errors.push(`${f}: no panel shows ${what}`);
  }
  report('grafana dashboards well formed and cover ingest/rejects/throttles/queue/lag/DB/HTTP/DLQ', `${files.length} dashboard(s), ${panelCount} panels`, errors);
}

/** Every PromQL expression of the rules and dashboards, with where it is. */
function allExprs() {
  const out = [];
  for (const f of fs.readdirSync(path.join(MON, 'alerts')).filter((x) => /\.ya?ml$/.test(x))) {
    for (const r of metricNames.parseRuleFile(fs.readFileSync(path.join(MON, 'alerts', f), 'utf8'))) out.push({ expr: r.expr, where: `${f}: ${r.alert || r.record}` });
  }
  for (const f of fs.readdirSync(path.join(MON, 'dashboards')).filter((x) => x.endsWith('.json'))) {
    const walk = (panels) => { for (const p of panels || []) { for (const t of p.targets || []) if (t.expr) out.push({ expr: t.expr, where: `${f}: panel "${p.title}"` }); walk(p.panels); } };
    walk(JSON.parse(fs.readFileSync(path.join(MON, 'dashboards', f), 'utf8')).panels);
  }
  return out;
}

function checkMetricNames() {
  const used = metricNames.metricNamesUsed();
  const errors = [...used].filter((n) => !APP_METRICS.has(n) && !DEFAULT_METRIC.test(n)).map((n) => `${n} is not a metric of the app contract`);
  for (const n of APP_METRICS) if (!used.has(n) && !['sluice_events_deduplicated_total'].includes(n)) {
    // Every contract metric should be visible somewhere; a silent one is a gap in the dashboard.
    errors.push(`${n} is exported by the app but used by no dashboard or rule`);
  }
  // Label matchers name labels the metric has: a typo (degraded vs degrade) never matches, and
  // the alert it is in never fires.
  const source = sourceMetrics();
  if (source) {
    for (const { expr, where } of allExprs()) {
      const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      for (const m of s.matchAll(/\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)) {
        const base = m[1].replace(/_(bucket|sum|count)$/, '');
        const labels = source.get(base) || source.get(m[1]);
        if (!labels) continue;
        for (const l of m[2].matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)) {
          if (!labels.has(l[1]) && !TARGET_LABELS.has(l[1])) errors.push(`${where}: ${m[1]} has no label "${l[1]}" (the app's labels: ${[...labels].join(', ') || 'none'})`);
        }
      }
    }
  }
  report('metric names in dashboards and rules belong to the app contract (and their label matchers to the metric)', `${used.size} names: ${[...used].join(', ')}`, errors);
  if (source) {
    const notListed = [...source.keys()].filter((n) => !APP_METRICS.has(n));
    const notExported = [...APP_METRICS].filter((n) => !source.has(n));
    if (notListed.length) console.log(`note metrics exported by src/metrics/metrics.service.ts but not in the contract of monitoring-check.js (no dashboard or alert yet): ${notListed.join(', ')}`);
    if (notExported.length) console.log(`note metrics in the contract of monitoring-check.js that src/metrics/metrics.service.ts does not define (yet): ${notExported.join(', ')}`);
    if (!notListed.length && !notExported.length) console.log(`ok   the metric contract matches src/metrics/metrics.service.ts (${source.size} metrics)`);
  }
}

function checkDocs() {
  const errors = [];
  for (const f of ['incident-response', 'scaling', 'key-rotation', 'redis-failover', 'postgresql-failover', 'restore']) {
    const file = path.join(RUNBOOKS, `${f}.md`);
    if (!fs.existsSync(file)) errors.push(`docs/runbooks/${f}.md missing`);
    else if (fs.readFileSync(file, 'utf8').length < 1500) errors.push(`docs/runbooks/${f}.md is too short to be a runbook`);
  }
  const slo = path.join(MON, 'SLO.md');
  if (!fs.existsSync(slo)) errors.push('deploy/monitoring/SLO.md missing');
  else {
    const t = fs.readFileSync(slo, 'utf8');
    for (const w of ['availability', 'latency', 'error budget']) if (!t.toLowerCase().includes(w)) errors.push(`SLO.md does not cover ${w}`);
  }
  // Every relative link in the runbooks and SLO doc resolves.
  const docs = [slo, ...(fs.existsSync(RUNBOOKS) ? fs.readdirSync(RUNBOOKS).map((f) => path.join(RUNBOOKS, f)) : [])].filter((f) => fs.existsSync(f) && f.endsWith('.md'));
  for (const d of docs) {
    for (const m of fs.readFileSync(d, 'utf8').matchAll(/\]\((?!https?:|mailto:|#)([^)#\s]+)(#[^)\s]*)?\)/g)) {
      const target = path.resolve(path.dirname(d), m[1]);
      if (!fs.existsSync(target)) errors.push(`${path.relative(REPO_ROOT, d)}: broken link ${m[1]}`);
      else if (m[2] && target.endsWith('.md') && !anchorsOf(target).has(m[2].slice(1))) errors.push(`${path.relative(REPO_ROOT, d)}: ${m[1]} has no heading ${m[2]}`);
    }
  }
  report('runbooks and SLO document present, links resolve', `${docs.length} documents`, errors);
}

function promtool(ruleFiles) {
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  if (which.status !== 0) {
    skip('promtool check rules + promtool test rules', 'promtool not on PATH (Debian package "prometheus"); the structural checks above still ran');
    return;
  }
  const errors = [];
  const check = spawnSync('promtool', ['check', 'rules', ...ruleFiles], { encoding: 'utf8' });
  if (check.status !== 0) errors.push(check.stdout + check.stderr);
  const tests = fs.readdirSync(path.join(MON, 'alerts', 'tests')).filter((f) => f.endsWith('.yaml')).map((f) => path.join(MON, 'alerts', 'tests', f));
  const test = spawnSync('promtool', ['test', 'rules', ...tests], { encoding: 'utf8', cwd: path.join(MON, 'alerts', 'tests') });
  if (test.status !== 0) errors.push(test.stdout + test.stderr);
  report('promtool check rules + promtool test rules', `${ruleFiles.length} rule file(s), ${tests.length} test file(s)`, errors);
}

try {
  const ruleFiles = checkRules();
  checkDashboards();
  checkMetricNames();
  checkDocs();
  promtool(ruleFiles);
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}

#!/usr/bin/env node
'use strict';
// Metric names used by the observability assets, and a comparison with a live /metrics page.
//
//   const { metricNamesUsed } = require('./deploy/check/metric-names');
//   metricNamesUsed()  -> Set of base metric names referenced by the Grafana dashboards and the
//                         Prometheus rules (histogram _bucket/_sum/_count suffixes stripped;
//                         recording-rule outputs and Prometheus' own series such as `up` left out)
//
//   node deploy/check/metric-names.js <file with /metrics text>
//     exits 1 and lists every used name that the exposition text does not define.
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DASHBOARD_DIR = path.join(REPO_ROOT, 'deploy/monitoring/dashboards');
const RULES_DIR = path.join(REPO_ROOT, 'deploy/monitoring/alerts');

// Series Prometheus makes itself, never in an app's /metrics.
const PROMETHEUS_SYNTHETIC = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan', 'Inf', 'NaN', 'start', 'end']);
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Metric names (as written, suffixes kept) referenced by one PromQL expression. */
function namesInExpr(expr) {
  let s = String(expr);
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' '); // string literals
  s = s.replace(/\{[^{}]*\}/g, ' '); // label matchers
  s = s.replace(/\[[^\]]*\]/g, ' '); // ranges and subqueries
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  s = s.replace(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g, ' '); // Grafana variables
  s = s.replace(/@\s*(start|end)\s*\(\s*\)/g, ' ');
  const names = new Set();
  const token = /(\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y)\b)|(0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?)|([A-Za-z_:][A-Za-z0-9_:]*)/g;
  let m;
  while ((m = token.exec(s))) {
    const id = m[3];
    if (!id) continue;
    const rest = s.slice(token.lastIndex);
    if (/^\s*\(/.test(rest)) continue; // function or aggregation call
    if (KEYWORDS.has(id)) continue;
    names.add(id);
  }
  return names;
}

/** Grafana template-variable queries: label_values(metric, label), query_result(expr), or PromQL. */
function namesInVariableQuery(q) {
  const text = typeof q === 'string' ? q : (q && (q.query || q.expr)) || '';
  const lv = /^\s*label_values\(\s*(.*?)\s*,\s*[A-Za-z_]\w*\s*\)\s*$/.exec(text);
  if (lv) return namesInExpr(lv[1]);
  if (/^\s*label_values\(\s*[A-Za-z_]\w*\s*\)\s*$/.test(text)) return new Set();
  const qr = /^\s*query_result\((.*)\)\s*$/.exec(text);
  if (qr) return namesInExpr(qr[1]);
  if (/^\s*(label_names|metrics)\(/.test(text)) return new Set();
  return namesInExpr(text);
}

function listFiles(dir, re) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f));
}

function dashboardExprs(dashboard) {
  const exprs = [];
  const walk = (panels) => {
    for (const p of panels || []) {
      for (const t of p.targets || []) if (t.expr) exprs.push({ expr: t.expr, where: `panel "${p.title}"` });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  const vars = ((dashboard.templating || {}).list || []).filter((v) => v.type === 'query');
  return { exprs, vars };
}

/**
 * The rules of a Prometheus rule file, without a YAML library (this module must load from the
 * app's tests with no dependency installed): `- record:`/`- alert:` items and their `expr:`,
 * inline or as a block scalar. monitoring-check.js verifies it against a real YAML parse.
 */
function parseRuleFile(text) {
  const rules = [];
  const lines = text.split('\n');
  let current = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const item = /^(\s*)- (record|alert):\s*(.+?)\s*$/.exec(line);
    if (item) {
      current = { [item[2]]: item[3].replace(/^['"]|['"]$/g, '') };
      rules.push(current);
      continue;
    }
    const ex = /^(\s*)expr:\s*(.*?)\s*$/.exec(line);
    if (ex && current) {
      if (/^[|>][-+]?$/.test(ex[2])) {
        const body = [];
        const indent = ex[1].length;
        while (i + 1 < lines.length && (lines[i + 1].trim() === '' || /^\s*/.exec(lines[i + 1])[0].length > indent)) body.push(lines[++i].trim());
        current.expr = body.join('\n').trim();
      } else {
        current.expr = ex[2].replace(/^'(.*)'$/, (_, v) => v.replace(/''/g, "'")).replace(/^"(.*)"$/, '$1');
      }
    }
  }
  return rules;
}

function ruleFiles() {
  return listFiles(RULES_DIR, /\.ya?ml$/).map((file) => ({ file, rules: parseRuleFile(fs.readFileSync(file, 'utf8')) }));
}

/** Map of base name -> places it is used. */
function metricUsage() {
  const usage = new Map();
  const recorded = new Set();
  const add = (name, where) => {
    const base = name.replace(HISTOGRAM_SUFFIX, '');
    if (!usage.has(base)) usage.set(base, new Set());
    usage.get(base).add(where);
  };
  for (const { file, rules } of ruleFiles()) {
    for (const r of rules) {
      if (r.record) recorded.add(r.record);
      for (const n of namesInExpr(r.expr)) add(n, `${path.relative(REPO_ROOT, file)}: ${r.alert || r.record}`);
    }
  }
  for (const file of listFiles(DASHBOARD_DIR, /\.json$/)) {
    const d = JSON.parse(fs.readFileSync(file, 'utf8'));
    const { exprs, vars } = dashboardExprs(d);
    for (const { expr, where } of exprs) for (const n of namesInExpr(expr)) add(n, `${path.relative(REPO_ROOT, file)}: ${where}`);
    for (const v of vars) for (const n of namesInVariableQuery(v.query)) add(n, `${path.relative(REPO_ROOT, file)}: variable $${v.name}`);
  }
  for (const n of [...usage.keys()]) {
    if (recorded.has(n) || n.includes(':') || PROMETHEUS_SYNTHETIC.has(n)) usage.delete(n);
  }
  return usage;
}

function metricNamesUsed() {
  return new Set([...metricUsage().keys()].sort());
}

/** Base metric names defined by Prometheus (or OpenMetrics) exposition text. */
function metricNamesExposed(text) {
  const names = new Set();
  for (const line of String(text).split('\n')) {
    const t = /^#\s+(?:TYPE|HELP)\s+([A-Za-z_:][A-Za-z0-9_:]*)(?:\s+(\w+))?/.exec(line);
    if (t) {
      names.add(t[1]);
      if (/^#\s+TYPE/.test(line) && t[2] === 'counter' && !t[1].endsWith('_total')) names.add(`${t[1]}_total`);
      continue;
    }
    const s = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{|\s)/.exec(line);
    if (s) names.add(s[1]);
  }
  const bases = new Set(names);
  for (const n of names) bases.add(n.replace(HISTOGRAM_SUFFIX, ''));
  return bases;
}

/** Names used by the assets and missing from the exposition text (sorted). */
function missingFrom(text) {
  const exposed = metricNamesExposed(text);
  return [...metricNamesUsed()].filter((n) => !exposed.has(n)).sort();
}

module.exports = { metricNamesUsed, metricUsage, metricNamesExposed, missingFrom, namesInExpr, namesInVariableQuery, parseRuleFile };

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node deploy/check/metric-names.js <file with /metrics text>   (or "-" for stdin)');
    process.exit(2);
  }
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  const usage = metricUsage();
  const missing = missingFrom(text);
  if (missing.length) {
    console.log(`FAIL ${missing.length} metric name(s) used by deploy/monitoring are not exported by the app:`);
    for (const n of missing) console.log(`  - ${n} (used in ${[...usage.get(n)].slice(0, 3).join('; ')})`);
    process.exit(1);
  }
  console.log(`ok   all ${usage.size} metric names used by the dashboards and rules are exported`);
}

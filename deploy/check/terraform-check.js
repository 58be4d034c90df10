#!/usr/bin/env node
'use strict';
// Terraform checks that need no provider download (so `terraform validate` cannot run here):
//  - formatting: `terraform fmt -check` when the terraform binary is on PATH (skipped with a
//    message otherwise), and always hclwrite's Format (what terraform fmt is built on, as WASM
//    from @cdktf/hcl-tools) on every .tf and .tfvars.example file;
//  - every variable typed, described and validated (bool excepted), secrets marked sensitive;
//    every var./local. reference declared, every declared variable used;
//  - every module call passes only inputs the module declares and every input it requires,
//    and every module.<name>.<output> reference exists;
//  - terraform.tfvars.example sets only declared variables and every required one;
//  - providers pinned; the helm_values output only sets keys the Helm chart has, and matches
//    the committed deploy/argocd/<env>/values-infra.yaml;
//  - the app settings that follow from the infrastructure: ElastiCache has no AOF, so
//    REDIS_DURABILITY=replicas with REDIS_WAIT_REPLICAS derived from the replication group and
//    at most its replicas; RDS TLS verified (verify-full) against a CA bundle in databaseCa.pem;
//    the RDS read replica: readReplica.enabled derived from the rds module and in the committed
//    values exactly when the environment creates one, DATABASE_READ_URL passed to the secret.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const yaml = require('js-yaml');
const { parse } = require('@cdktf/hcl2json');
const { format } = require('@cdktf/hcl-tools');
const { REPO_ROOT } = require('./lib/tools');
const { report, skip } = require('./lib/report');

const TF = path.join(REPO_ROOT, 'deploy/terraform');
const CHART_VALUES = path.join(REPO_ROOT, 'deploy/helm/sluice/values.yaml');
const META_ARGS = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);
const SENSITIVE_NAME = /(password|token|routing_key|webhook|database_url|database_read_url|redis_url)/;
const PROVIDER_PREFIX = { aws: 'aws', random: 'random', tls: 'tls', helm: 'helm', kubernetes: 'kubernetes', http: 'http' };

const rel = (p) => path.relative(REPO_ROOT, p);

function listDirs(base) {
  return fs.readdirSync(base).map((d) => path.join(base, d)).filter((d) => fs.statSync(d).isDirectory()).sort();
}

async function loadDir(dir) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.tf')).sort();
  const blocks = { variable: {}, output: {}, module: {}, locals: [], resource: {}, data: {}, terraform: [] };
  const raw = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    raw.push(text);
    const json = await parse(f, text);
    for (const [k, v] of Object.entries(json)) {
      if (k === 'locals' || k === 'terraform') blocks[k].push(...v);
      else if (blocks[k]) for (const [name, body] of Object.entries(v)) blocks[k][name] = body;
    }
  }
  return { dir, files, blocks, text: raw.join('\n') };
}

function first(body) {
  return Array.isArray(body) ? body[0] : body;
}

function stripComments(text) {
  return text.replace(/^\s*#.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

function checkVariablesAndRefs(unit, errors) {
  const where = rel(unit.dir);
  const code = stripComments(unit.text);
  for (const [name, body] of Object.entries(unit.blocks.variable)) {
    const v = first(body);
    if (!v.type) errors.push(`${where}: variable "${name}" has no type`);
    if (!v.description || !/\.\)?$/.test(v.description.trim())) errors.push(`${where}: variable "${name}" needs a description (a sentence ending with a full stop)`);
    const isBool = v.type === '${bool}';
    if (!isBool && !v.validation) errors.push(`${where}: variable "${name}" has no validation block`);
    for (const val of v.validation || []) {
      if (!val.condition || !String(val.condition).includes(`var.${name}`)) errors.push(`${where}: variable "${name}": validation condition must test var.${name}`);
      if (!val.error_message) errors.push(`${where}: variable "${name}": validation without error_message`);
    }
    if (SENSITIVE_NAME.test(name) && v.sensitive !== true) errors.push(`${where}: variable "${name}" holds a secret and must be sensitive = true`);
    const uses = code.match(new RegExp(`\\bvar\\.${name}\\b`, 'g')) || [];
    if (!uses.length) errors.push(`${where}: variable "${name}" is declared but never used`);
  }
  for (const m of code.matchAll(/\bvar\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!unit.blocks.variable[m[1]]) errors.push(`${where}: var.${m[1]} is not declared`);
  }
  const locals = new Set(unit.blocks.locals.flatMap((l) => Object.keys(l)));
  for (const m of code.matchAll(/\blocal\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!locals.has(m[1])) errors.push(`${where}: local.${m[1]} is not defined`);
  }
  for (const [name, body] of Object.entries(unit.blocks.output)) {
    const o = first(body);
    if (!o.description) errors.push(`${where}: output "${name}" has no description`);
    if (o.value === undefined) errors.push(`${where}: output "${name}" has no value`);
    if (SENSITIVE_NAME.test(name) && o.sensitive !== true) errors.push(`${where}: output "${name}" holds a secret and must be sensitive = true`);
  }
  // Providers used by resources and data sources are pinned in required_providers.
  const required = {};
  for (const t of unit.blocks.terraform) {
    for (const rp of t.required_providers || []) Object.assign(required, rp);
    if (!t.required_version && unit.blocks.terraform.length) errors.push(`${where}: terraform.required_version missing`);
  }
  const used = new Set([...Object.keys(unit.blocks.resource), ...Object.keys(unit.blocks.data)].map((t) => PROVIDER_PREFIX[t.split('_')[0]]).filter(Boolean));
  for (const p of used) {
    if (!required[p]) errors.push(`${where}: provider ${p} is used but not in required_providers`);
    else if (!required[p].version) errors.push(`${where}: provider ${p} has no version constraint`);
  }
}

function checkModuleCalls(unit, modules, errors) {
  const where = rel(unit.dir);
  const code = stripComments(unit.text);
  const calls = {};
  for (const [name, body] of Object.entries(unit.blocks.module)) {
    const call = first(body);
    const target = path.resolve(unit.dir, call.source || '');
    const mod = modules.get(target);
    if (!mod) { errors.push(`${where}: module "${name}" source ${call.source} is not a module under deploy/terraform/modules`); continue; }
    calls[name] = mod;
    for (const arg of Object.keys(call)) {
      if (META_ARGS.has(arg)) continue;
      if (!mod.blocks.variable[arg]) errors.push(`${where}: module "${name}" passes "${arg}", which ${rel(mod.dir)} does not declare`);
    }
    for (const [v, body2] of Object.entries(mod.blocks.variable)) {
      if (first(body2).default === undefined && !(v in call)) errors.push(`${where}: module "${name}" does not pass required input "${v}"`);
    }
  }
  for (const m of code.matchAll(/\bmodule\.([A-Za-z_][\w-]*)\.([A-Za-z_]\w*)/g)) {
    const mod = calls[m[1]];
    if (!mod) errors.push(`${where}: module.${m[1]} is not declared`);
    else if (!mod.blocks.output[m[2]]) errors.push(`${where}: module.${m[1]}.${m[2]}: ${rel(mod.dir)} has no output "${m[2]}"`);
  }
  return calls;
}

async function checkTfvars(unit, errors) {
  const file = path.join(unit.dir, 'terraform.tfvars.example');
  const where = rel(file);
  if (!fs.existsSync(file)) { errors.push(`${where} missing`); return; }
  const json = await parse('terraform.tfvars', fs.readFileSync(file, 'utf8'));
  const set = new Set(Object.keys(json));
  for (const k of set) if (!unit.blocks.variable[k]) errors.push(`${where}: sets "${k}", which is not a variable of ${rel(unit.dir)}`);
  for (const [name, body] of Object.entries(unit.blocks.variable)) {
    if (first(body).default === undefined && !set.has(name)) errors.push(`${where}: required variable "${name}" is missing`);
  }
}

function keyPaths(obj, prefix = '') {
  const out = [];
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p);
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...keyPaths(v, p));
  }
  return out;
}

function checkHelmValues(unit, errors) {
  const where = rel(unit.dir);
  const local = unit.blocks.locals.find((l) => l.helm_values);
  if (!local) { errors.push(`${where}: no locals.helm_values (the Helm values derived from the infrastructure)`); return; }
  const chart = new Set(keyPaths(yaml.load(fs.readFileSync(CHART_VALUES, 'utf8'))));
  const tfPaths = keyPaths(local.helm_values);
  for (const p of tfPaths) if (!chart.has(p)) errors.push(`${where}: helm_values sets "${p}", which deploy/helm/sluice/values.yaml does not have`);
  if (!/yamlencode\(local\.helm_values\)/.test(JSON.stringify(unit.blocks.output.helm_values || ''))) errors.push(`${where}: output "helm_values" must be yamlencode(local.helm_values)`);
  const env = path.basename(unit.dir);
  const infra = path.join(REPO_ROOT, 'deploy/argocd', env, 'values-infra.yaml');
  if (!fs.existsSync(infra)) { errors.push(`${rel(infra)} missing (terraform output -raw helm_values)`); return; }
  const committed = new Set(keyPaths(yaml.load(fs.readFileSync(infra, 'utf8'))));
  const produced = new Set(tfPaths);
  for (const p of produced) if (!committed.has(p)) errors.push(`${rel(infra)}: lacks "${p}" that helm_values produces`);
  for (const p of committed) if (!produced.has(p)) errors.push(`${rel(infra)}: has "${p}" that helm_values does not produce`);
  checkInfraSettings(unit, local.helm_values, yaml.load(fs.readFileSync(infra, 'utf8')) || {}, rel(infra), errors);
}

/**
 * Settings the infrastructure decides. ElastiCache offers no append-only file, so the only
 * durable mode there is REDIS_DURABILITY=replicas, waiting for replicas that exist: derived from
 * the elasticache module (not typed by hand), and in the committed example at most
 * num_cache_clusters - 1. RDS: verify-full against the bundle helm_values carries.
 */
function checkInfraSettings(unit, hv, committed, infraRel, errors) {
  const where = rel(unit.dir);
  const cfg = hv.config || {};
  const committedCfg = committed.config || {};
  const ec = first(unit.blocks.module.elasticache || {});
  if (unit.blocks.module.elasticache) {
    if (cfg.REDIS_DURABILITY !== 'replicas') errors.push(`${where}: helm_values must set config.REDIS_DURABILITY = "replicas" (ElastiCache has no AOF, so fsync cannot hold)`);
    if (!/module\.elasticache\./.test(String(cfg.REDIS_WAIT_REPLICAS || ''))) errors.push(`${where}: helm_values config.REDIS_WAIT_REPLICAS must be derived from module.elasticache (replica_count), not typed by hand`);
    const nodes = typeof ec.num_cache_clusters === 'number' ? ec.num_cache_clusters : null;
    if (nodes === null) errors.push(`${where}: module "elasticache" num_cache_clusters should be a literal, so the checks can compare it with REDIS_WAIT_REPLICAS`);
    else {
      const wait = committedCfg.REDIS_WAIT_REPLICAS;
      if (nodes < 2) errors.push(`${where}: num_cache_clusters = ${nodes} leaves no replica for REDIS_DURABILITY=replicas`);
      if (!Number.isInteger(wait) || wait < 1 || wait > nodes - 1) errors.push(`${infraRel}: config.REDIS_WAIT_REPLICAS = ${wait}, but the replication group has ${nodes - 1} replica(s) (1..${nodes - 1})`);
    }
    if (committedCfg.REDIS_DURABILITY !== cfg.REDIS_DURABILITY) errors.push(`${infraRel}: config.REDIS_DURABILITY = ${committedCfg.REDIS_DURABILITY}, helm_values says ${cfg.REDIS_DURABILITY}`);
  }
  if (unit.blocks.module.rds) {
    if (cfg.DATABASE_SSL !== 'verify-full' || committedCfg.DATABASE_SSL !== 'verify-full') errors.push(`${where}: RDS enforces TLS; config.DATABASE_SSL must be "verify-full" in helm_values and ${infraRel}`);
    if (!(hv.databaseCa && hv.databaseCa.pem)) errors.push(`${where}: helm_values must carry the RDS CA bundle (databaseCa.pem): the RDS CAs are not in Node's trust store`);
    if (!/-----BEGIN CERTIFICATE-----/.test(String((committed.databaseCa || {}).pem || ''))) errors.push(`${infraRel}: databaseCa.pem is not a PEM bundle`);
    // The read replica of the query API: the api gets DATABASE_READ_URL (readReplica.enabled)
    // exactly when the replica exists, and the secret holds it then (the chart's key is required).
    const rds = first(unit.blocks.module.rds);
    const count = resolveNumber(unit, rds.read_replica_count, 0);
    const enabled = (hv.readReplica || {}).enabled;
    if (!/module\.rds\./.test(String(enabled || ''))) errors.push(`${where}: helm_values readReplica.enabled must be derived from module.rds (read_replica_count), not typed by hand`);
    if (count === null) errors.push(`${where}: module "rds" read_replica_count should be a literal or a variable with a default, so the checks can compare it with readReplica.enabled`);
    else if ((committed.readReplica || {}).enabled !== count > 0) errors.push(`${infraRel}: readReplica.enabled = ${(committed.readReplica || {}).enabled}, but the environment creates ${count} read replica(s)`);
    const secrets = first(unit.blocks.module.secrets || {});
    if (unit.blocks.module.secrets && !/module\.rds\.database_read_url/.test(String(secrets.database_read_url || ''))) errors.push(`${where}: module "secrets" must get database_read_url = module.rds.database_read_url (the api reads DATABASE_READ_URL from the secret while readReplica.enabled)`);
  }
}

/** A module argument as a number: a literal, or var.x at its terraform.tfvars.example value or default; null otherwise. */
function resolveNumber(unit, value, fallback) {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = /^\$\{var\.([A-Za-z_]\w*)\}$/.exec(String(value));
  if (!m) return null;
  if (unit.tfvars && typeof unit.tfvars[m[1]] === 'number') return unit.tfvars[m[1]];
  const v = unit.blocks.variable[m[1]] && first(unit.blocks.variable[m[1]]);
  return v && typeof v.default === 'number' ? v.default : null;
}

async function checkFormat(allFiles) {
  const errors = [];
  for (const f of allFiles) {
    const text = fs.readFileSync(f, 'utf8');
    const formatted = await format(text);
    if (formatted !== text) errors.push(`${rel(f)} is not formatted (terraform fmt)`);
  }
  report('hclwrite format (terraform fmt rules, WASM)', `${allFiles.length} files`, errors);

  const which = spawnSync('sh', ['-c', 'command -v terraform'], { encoding: 'utf8' });
  if (which.status !== 0) {
    skip('terraform fmt -check -recursive', 'terraform binary not on PATH (no npm or Debian package ships it); the hclwrite format check above covers the same rules');
    return;
  }
  const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' };
  const res = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', TF], { encoding: 'utf8', env });
  const tfErrors = res.status === 0 ? [] : [`${res.stdout}${res.stderr}`.trim()];
  for (const f of allFiles.filter((x) => x.endsWith('.tfvars.example'))) {
    const r = spawnSync('terraform', ['fmt', '-check', '-'], { input: fs.readFileSync(f, 'utf8'), encoding: 'utf8', env });
    if (r.status !== 0) tfErrors.push(`${rel(f)} is not formatted`);
  }
  const version = spawnSync('terraform', ['version'], { encoding: 'utf8', env }).stdout.split('\n')[0];
  report('terraform fmt -check -recursive', `${version}, ${allFiles.length} files`, tfErrors);
}

async function main() {
  const moduleDirs = listDirs(path.join(TF, 'modules'));
  const envDirs = listDirs(path.join(TF, 'environments'));
  const all = [...moduleDirs, ...envDirs];
  const files = all.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.tf') || f.endsWith('.tfvars.example')).map((f) => path.join(d, f)));
  await checkFormat(files);

  const modules = new Map();
  for (const d of moduleDirs) modules.set(d, await loadDir(d));
  const envs = [];
  for (const d of envDirs) envs.push(await loadDir(d));

  const varErrors = [];
  let variables = 0;
  for (const unit of [...modules.values(), ...envs]) {
    checkVariablesAndRefs(unit, varErrors);
    variables += Object.keys(unit.blocks.variable).length;
  }
  report('terraform variables typed, described, validated; references declared; providers pinned', `${modules.size} modules + ${envs.length} environments, ${variables} variables`, varErrors);

  const required = ['vpc', 'eks', 'rds', 'elasticache', 'monitoring', 'secrets'];
  const callErrors = required.filter((m) => !modules.has(path.join(TF, 'modules', m))).map((m) => `module ${m} missing`);
  let calls = 0;
  for (const env of envs) {
    const c = checkModuleCalls(env, modules, callErrors);
    calls += Object.keys(c).length;
    for (const m of required) if (!c[m]) callErrors.push(`${rel(env.dir)} does not use module ${m}`);
    await checkTfvars(env, callErrors);
  }
  report('terraform module inputs/outputs wired; tfvars.example complete', `${calls} module calls in ${envs.map((e) => path.basename(e.dir)).join(', ')}`, callErrors);

  const helmErrors = [];
  for (const env of envs) {
    const tfvars = path.join(env.dir, 'terraform.tfvars.example');
    if (fs.existsSync(tfvars)) env.tfvars = await parse('terraform.tfvars', fs.readFileSync(tfvars, 'utf8'));
    checkHelmValues(env, helmErrors);
  }
  report('terraform helm_values match the chart and deploy/argocd/<env>/values-infra.yaml', `${envs.length} environments`, helmErrors);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});

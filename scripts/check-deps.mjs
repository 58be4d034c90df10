#!/usr/bin/env node
// The dependency check CI runs (`npm run lint:deps`):
// 1. dependency-cruiser with .dependency-cruiser.cjs: file-level cycles and the layer rules;
// 2. module-level cycles: the folders under src/ (auth, sources, ingest, ...) must form a DAG
//    too, which file-level cycle detection alone does not catch (a.ts -> b/x.ts -> a/y.ts).
// `--self-test` copies src/ to a temporary folder, plants an upward import and a module cycle,
// and fails unless both are reported: the check itself can fail.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cruise } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname, '..');

/** The top-level unit of a file: `src/auth/x.ts` -> `auth`; `src/main.ts` -> `main.ts`. */
const unitOf = (path) => path.replace(/^src\//, '').split('/')[0];

function moduleCycles(modules) {
  const edges = new Map();
  for (const m of modules) {
    if (!m.source.startsWith('src/')) continue;
    const from = unitOf(m.source);
    for (const d of m.dependencies) {
      if (!d.resolved.startsWith('src/')) continue;
      const to = unitOf(d.resolved);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from).has(to)) edges.get(from).set(to, `${m.source} -> ${d.resolved}`);
    }
  }
  // Tarjan's strongly connected components: any with more than one unit is a cycle.
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], on = new Set(), sccs = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const w of (edges.get(v) ?? new Map()).keys()) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do { w = stack.pop(); on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) sccs.push(scc);
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return sccs.map((scc) => {
    const set = new Set(scc);
    const examples = [];
    for (const a of scc) for (const [b, via] of edges.get(a) ?? []) if (set.has(b)) examples.push(`    ${a} -> ${b}  (${via})`);
    return `  module cycle: ${scc.sort().join(', ')}\n${examples.join('\n')}`;
  });
}

async function check(root) {
  const config = require(join(ROOT, '.dependency-cruiser.cjs'));
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const result = await cruise(['src'], { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true }, undefined, {
      tsConfig: config.options.tsConfig ? { fileName: join(ROOT, config.options.tsConfig.fileName) } : undefined,
    });
    const out = result.output;
    const problems = out.summary.violations
      .filter((v) => v.rule.severity === 'error')
      .map((v) => `  ${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name ?? c).join(' -> ')})` : ''}`);
    problems.push(...moduleCycles(out.modules));
    return { problems, modules: out.summary.totalCruised, dependencies: out.summary.totalDependenciesCruised };
  } finally {
    process.chdir(cwd);
  }
}

async function selfTest() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-deps-'));
  try {
    cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'tsconfig.json'), readFileSync(join(ROOT, 'tsconfig.json')));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    // An upward import (infrastructure -> feature) and a module-level cycle (auth <-> sources).
    appendFileSync(join(dir, 'src/common/errors.ts'), "\nimport '../ingest/ingest.service';\n");
    appendFileSync(join(dir, 'src/auth/credentials.service.ts'), "\nimport '../sources/sources.service';\n");
    const { problems } = await check(dir);
    const found = (re) => problems.some((p) => re.test(p));
    const missed = [];
    if (!found(/infrastructure-knows-no-feature: src\/common\/errors\.ts -> src\/ingest\/ingest\.service\.ts/)) missed.push('the upward import');
    if (!found(/module cycle: .*auth.*sources/)) missed.push('the auth <-> sources module cycle');
    if (missed.length) {
      console.error(`self-test FAILED: the check did not report ${missed.join(' and ')}:\n${problems.join('\n')}`);
      process.exit(1);
    }
    console.log(`self-test: planted violations reported as expected:\n${problems.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--self-test')) await selfTest();
else {
  const { problems, modules, dependencies } = await check(ROOT);
  if (problems.length) {
    console.error(`dependency check FAILED (${problems.length}):\n${problems.join('\n')}\nSee .dependency-cruiser.cjs and docs/architecture.md for the layer rules.`);
    process.exit(1);
  }
  console.log(`dependency check: no violations (${modules} modules, ${dependencies} dependencies; layers and module DAG hold)`);
}

'use strict';
// Validation of rendered Kubernetes objects, in two passes:
//  1. kubernetes-models: the JSON schemas of Kubernetes 1.3x (and of the KEDA, External Secrets,
//     prometheus-operator and Argo CD CRDs) compiled with ajv: types, enums, required fields.
//     Those schemas allow unknown fields, so a typo like `readinessprobe:` would pass.
//  2. A strict type check: every object is written out as a TypeScript literal typed with the
//     model's interface and compiled with tsc. Excess-property checks at every nesting level
//     reject unknown fields, and type errors are reported with the object and field.
const fs = require('node:fs');
const path = require('node:path');
const { TOOLS_DIR, CHECK_DIR } = require('./tools');

// group -> package that holds its models. Core and built-in groups live in kubernetes-models.
const CRD_PACKAGES = {
  'keda.sh': '@kubernetes-models/keda',
  'external-secrets.io': '@kubernetes-models/external-secrets',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'argoproj.io': '@kubernetes-models/argo-cd',
};
// API versions served by current operators for which the models package only has an older
// version of identical shape for the fields we render.
const VERSION_ALIASES = {
  'external-secrets.io/v1': 'external-secrets.io/v1beta1',
};

function modulePathFor(apiVersion, kind) {
  const effective = VERSION_ALIASES[apiVersion] || apiVersion;
  const [group, version] = effective.includes('/') ? effective.split('/') : ['', effective];
  const pkg = CRD_PACKAGES[group] || 'kubernetes-models';
  return group ? `${pkg}/${group}/${version}/${kind}` : `${pkg}/${version}/${kind}`;
}

function loadModel(apiVersion, kind) {
  const mod = modulePathFor(apiVersion, kind);
  let exports;
  try {
    exports = require(require.resolve(mod, { paths: [CHECK_DIR] }));
  } catch (e) {
    throw new Error(`no schema for ${apiVersion} ${kind} (looked for ${mod})`);
  }
  const Model = exports[kind];
  if (!Model) throw new Error(`module ${mod} does not export ${kind}`);
  return { Model, mod };
}

/** Schema validation; returns a list of error strings. */
function validateSchema(obj, where) {
  const errors = [];
  try {
    const { Model } = loadModel(obj.apiVersion, obj.kind);
    const data = { ...obj };
    if (VERSION_ALIASES[obj.apiVersion]) data.apiVersion = VERSION_ALIASES[obj.apiVersion];
    new Model(data).validate();
  } catch (e) {
    errors.push(`${where}: ${e.message.split('\n').slice(0, 6).join('; ')}`);
  }
  return errors;
}

/**
 * Strict typing of many objects at once. items: [{obj, where}]. Returns a list of error strings.
 */
function typecheck(items) {
  const ts = require(require.resolve('typescript', { paths: [CHECK_DIR] }));
  const dir = path.join(TOOLS_DIR, 'typecheck');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'rendered-objects.ts');
  const imports = new Map();
  const lines = [];
  const whereByLine = [];
  items.forEach(({ obj, where }, i) => {
    const mod = modulePathFor(obj.apiVersion, obj.kind);
    const alias = `T${imports.size}`;
    if (!imports.has(mod)) imports.set(mod, { alias, kind: obj.kind });
    const { alias: a, kind } = imports.get(mod);
    const data = { ...obj };
    if (VERSION_ALIASES[obj.apiVersion]) data.apiVersion = VERSION_ALIASES[obj.apiVersion];
    const text = `export const o${i}: ${a}.I${kind} = ${JSON.stringify(data, null, 1)};`;
    whereByLine.push({ start: null, where, text });
  });
  for (const [mod, { alias }] of imports) lines.push(`import type * as ${alias} from ${JSON.stringify(mod)};`);
  let line = lines.length;
  for (const w of whereByLine) {
    w.start = line;
    lines.push(w.text);
    line += w.text.split('\n').length;
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: [],
    lib: ['lib.es2022.d.ts'],
  });
  const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file && d.file.fileName === file);
  const errors = [];
  for (const d of diags) {
    const { line: l } = d.file.getLineAndCharacterOfPosition(d.start);
    const owner = [...whereByLine].reverse().find((w) => w.start <= l);
    const srcLine = lines.join('\n').split('\n')[l] || '';
    const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/\s+/g, ' ');
    errors.push(`${owner ? owner.where : file}: ${msg.slice(0, 400)} (at: ${srcLine.trim().slice(0, 120)})`);
  }
  const global = ts.getPreEmitDiagnostics(program).filter((d) => !d.file);
  for (const d of global) errors.push(`typescript: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  return errors;
}

module.exports = { validateSchema, typecheck, modulePathFor };

'use strict';
// The app's own validation of its environment, read from src/config/environment.ts with the
// TypeScript parser (no build, no app dependencies): for each variable of the class
// EnvironmentVariables its kind (int, bool, enum, string), bounds, allowed values and pattern,
// and the names listed in VARIABLES. The chart and compose checks compare the deployment with it,
// so a value the app would refuse at start fails here instead of crash-looping in a cluster.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const { REPO_ROOT } = require('./tools');

const FILE = path.join(REPO_ROOT, 'src/config/environment.ts');

function literal(node, sf) {
  if (ts.isNumericLiteral(node)) return Number(node.text.replace(/_/g, ''));
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken) return -literal(node.operand, sf);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isRegularExpressionLiteral(node)) {
    const m = /^\/(.*)\/([a-z]*)$/s.exec(node.text);
    return new RegExp(m[1], m[2]);
  }
  if (ts.isArrayLiteralExpression(node)) return node.elements.map((e) => literal(e, sf));
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  return undefined; // an identifier (ROLES) or anything computed: not needed by the checks
}

/** null when the app's source is not there (the app is built in parallel). */
function appEnvironment() {
  if (!fs.existsSync(FILE)) return null;
  const sf = ts.createSourceFile(FILE, fs.readFileSync(FILE, 'utf8'), ts.ScriptTarget.Latest, true);
  const variables = {};
  const documented = [];
  const visit = (node) => {
    if (ts.isClassDeclaration(node) && node.name && node.name.text === 'EnvironmentVariables') {
      for (const m of node.members) {
        if (!ts.isPropertyDeclaration(m) || !ts.isIdentifier(m.name)) continue;
        const v = { name: m.name.text, kind: 'string', optional: !!m.questionToken };
        for (const d of ts.getDecorators(m) || []) {
          if (!ts.isCallExpression(d.expression)) continue;
          const fn = d.expression.expression.getText(sf);
          const [arg] = d.expression.arguments;
          if (fn === 'IsInt') v.kind = 'int';
          else if (fn === 'IsBoolean') v.kind = 'bool';
          else if (fn === 'IsIn') { v.kind = 'enum'; v.values = arg && literal(arg, sf); }
          else if (fn === 'Min') v.min = literal(arg, sf);
          else if (fn === 'Max') v.max = literal(arg, sf);
          else if (fn === 'MinLength') v.minLength = literal(arg, sf);
          else if (fn === 'Matches') v.pattern = literal(arg, sf);
        }
        if (m.initializer) v.default = literal(m.initializer, sf);
        variables[v.name] = v;
      }
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === 'VARIABLES' && node.initializer && ts.isArrayLiteralExpression(node.initializer)) {
      for (const el of node.initializer.elements) {
        if (!ts.isObjectLiteralExpression(el)) continue;
        const p = el.properties.find((q) => q.name && q.name.getText(sf) === 'name');
        if (p && ts.isPropertyAssignment(p)) documented.push(literal(p.initializer, sf));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { file: path.relative(REPO_ROOT, FILE), variables, documented };
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** Why the app would refuse this environment value (a string, as the process sees it), or null. */
function refusal(v, value) {
  const s = String(value);
  if (s === '') return null; // empty means unset to the app: its default applies
  switch (v.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(s)) return `${v.name}=${s} is not an integer`;
      const n = Number(s);
      if (v.min !== undefined && n < v.min) return `${v.name}=${s} is below the app's minimum ${v.min}`;
      if (v.max !== undefined && n > v.max) return `${v.name}=${s} is above the app's maximum ${v.max}`;
      return null;
    }
    case 'bool':
      return [...TRUE, ...FALSE].includes(s.toLowerCase()) ? null : `${v.name}=${s} is not a boolean`;
    case 'enum':
      return !Array.isArray(v.values) || v.values.includes(s) ? null : `${v.name}=${s} is not one of ${v.values.join(', ')}`;
    default:
      if (v.pattern && !v.pattern.test(s)) return `${v.name}=${s} does not match the app's pattern ${v.pattern}`;
      if (v.minLength !== undefined && s.length < v.minLength) return `${v.name} is shorter than ${v.minLength} characters`;
      return null;
  }
}

module.exports = { appEnvironment, refusal };

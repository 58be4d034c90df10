import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 .cpuprofile (node --cpu-prof) the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** wall-clock window summarised, and the CPU time sampled in it (idle excluded) */
  windowSeconds: number;
  busyMs: number;
  idleMs: number;
  topSelf: ProfileEntry[];
  byPackage: ProfileEntry[];
  /** inclusive time of Sluice's own functions (dist/), largest first */
  sluiceInclusive: ProfileEntry[];
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/**
 * V8 names a regular expression's compiled code after its source; secure-json-parse's
 * `(?:c|\u0063)(?:o|\u006[Ff])...` scans read better as the word they look for.
 */
export function readableName(name: string): string {
  if (!name.startsWith('RegExp: ')) return name;
  const word = name.replace(/\(\?:(.)\|(?:\\)+u00[0-9A-Fa-f]+(?:\[[A-Za-z]+\])?\)/g, '$1');
  return word.length > 60 ? `${word.slice(0, 57)}...` : word;
}

/** Where a frame's code lives: a package, Sluice's own dist/, node internals, or V8 itself. */
export function packageOf(url: string, fn: string): string {
  if (SPECIAL.has(fn)) return fn;
  if (!url) return '(native / V8 builtins)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `sluice ${url.slice(dist + 1).split('/').slice(0, 2).join('/')}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per package, and inclusive time of Sluice's functions, over the
 * samples taken between fromMs and toMs (wall clock). The profile's clock is mapped to the
 * wall clock through the moment the process exited (the profile ends then).
 */
export function summariseProfile(file: string, exitedAtMs: number, fromMs: number, toMs: number, top = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const incl = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = prof.startTime;
  const toWall = (us: number) => exitedAtMs - (prof.endTime - us) / 1000;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    const dt = (i + 1 < prof.timeDeltas.length ? prof.timeDeltas[i + 1] : 0) / 1000; // ms until the next sample
    const wall = toWall(t);
    if (wall < fromMs || wall > toMs) continue;
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const key = SPECIAL.has(f.functionName) ? f.functionName : `${readableName(f.functionName) || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const p = packageOf(f.url, f.functionName);
    pkg.set(p, (pkg.get(p) ?? 0) + dt);
    // Inclusive: every distinct Sluice function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const fr = byId.get(id)?.callFrame;
      if (!fr || !fr.url.includes('/dist/')) continue;
      const k = `${fr.functionName || '(anonymous)'} ${shortUrl(fr.url)}:${fr.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const entries = (m: Map<string, number>, n: number): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: busy ? Math.round((1000 * ms) / busy) / 10 : 0 }));
  return {
    file,
    windowSeconds: Math.round((toMs - fromMs) / 100) / 10,
    busyMs: Math.round(busy),
    idleMs: Math.round(idle),
    topSelf: entries(self, top),
    byPackage: entries(pkg, top),
    sluiceInclusive: entries(incl, top),
  };
}

/** The newest .cpuprofile in dir written by the process with this pid (node names them by pid). */
export function findProfile(dir: string, pid: number): string | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${pid}.`))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? null;
}

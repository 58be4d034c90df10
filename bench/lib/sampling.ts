import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Resident set size of a process in bytes (VmRSS), or null when it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Samples VmRSS of named processes every `intervalMs` and keeps the peak per phase label, so
 * one sampler serves the whole run: the orchestrator switches `phase` as scenarios go by.
 */
export class RssSampler {
  phase = 'startup';
  private readonly peaks = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pids: () => Record<string, number | undefined>,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      if (!pid) continue;
      const rss = rssBytes(pid);
      if (rss === null) continue;
      const byName = this.peaks.get(this.phase) ?? new Map<string, number>();
      byName.set(name, Math.max(byName.get(name) ?? 0, rss));
      this.peaks.set(this.phase, byName);
    }
  }

  /** Peak RSS of `name` over the given phases (all phases when none are given). */
  peak(name: string, phases?: string[]): number | null {
    let best: number | null = null;
    for (const [phase, byName] of this.peaks) {
      if (phases && !phases.includes(phase)) continue;
      const v = byName.get(name);
      if (v !== undefined) best = Math.max(best ?? 0, v);
    }
    return best;
  }

  table(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [phase, byName] of this.peaks) out[phase] = Object.fromEntries(byName);
    return out;
  }
}

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** user + system CPU seconds a process has used so far, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0; utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return null;
  }
}

/**
 * CPU seconds of the whole machine (all cores) since boot, from /proc/stat: busy (what our
 * processes and everything else ran) and stolen (by the hypervisor for other guests).
 */
export function machineSeconds(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user
    return { busy: (v[0] + v[1] + v[2] + v[5] + v[6]) / ticksPerSecond(), steal: v[7] / ticksPerSecond() };
  } catch {
    return { busy: 0, steal: 0 };
  }
}

export interface CpuSnapshot {
  at: number;
  /** component -> pid -> CPU seconds used so far */
  byComponent: Record<string, Record<number, number>>;
  machine: { busy: number; steal: number };
}

/**
 * CPU accounting per component (api, worker, PostgreSQL, Redis, the load generator, ...) over
 * a phase: each component is a set of pids resolved at snapshot time. A pid that only the
 * later snapshot knows started during the phase and counts whole.
 */
export class CpuAccounting {
  constructor(private readonly components: () => Promise<Record<string, number[]>>) {}

  async snapshot(): Promise<CpuSnapshot> {
    const comps = await this.components();
    const byComponent: Record<string, Record<number, number>> = {};
    for (const [name, pids] of Object.entries(comps)) {
      byComponent[name] = {};
      for (const pid of pids) {
        const s = pid === process.pid ? ownCpuSeconds() : cpuSeconds(pid);
        if (s !== null) byComponent[name][pid] = s;
      }
    }
    return { at: Date.now(), byComponent, machine: machineSeconds() };
  }

  /**
   * CPU seconds per component between two snapshots; `other` is whatever else kept the
   * machine busy (the noise of a shared machine).
   */
  static delta(a: CpuSnapshot, b: CpuSnapshot): { seconds: number; cpu: Record<string, number>; stealSeconds: number } {
    const cpu: Record<string, number> = {};
    let ours = 0;
    for (const [name, pids] of Object.entries(b.byComponent)) {
      let d = 0;
      for (const [pid, used] of Object.entries(pids)) d += Math.max(0, used - (a.byComponent[name]?.[Number(pid)] ?? 0));
      cpu[name] = round(d, 3);
      ours += d;
    }
    cpu.other = round(Math.max(0, b.machine.busy - a.machine.busy - ours), 3);
    return { seconds: round((b.at - a.at) / 1000, 3), cpu, stealSeconds: round(b.machine.steal - a.machine.steal, 3) };
  }
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

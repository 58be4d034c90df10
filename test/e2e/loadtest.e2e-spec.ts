import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countEvents, createSource, startApp, TestApp } from '../support/app';

/**
 * `npm run loadtest` against a real Sluice (in-process, ROLE=all, real PostgreSQL and Redis),
 * run as users run it: the CLI as a child process, judged by its exit code, its summary and its
 * JSON file.
 */
const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'loadtest', 'cli.ts');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function loadtest(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface ReportJson {
  passed: boolean;
  exitCode: number;
  requests: { sent: number; ok: number; errors: number; missed: number };
  statuses: Record<string, number>;
  events: { acknowledged: number; accepted: number };
  latencyMs: { p50: number; p99: number; max: number };
  verification: {
    checked: number;
    arrived: number;
    missing: string[];
    missingTotal: number;
    counts: { counted: number | null; acknowledged: number; ok: boolean };
    verified: number;
  } | null;
  checks: { name: string; ok: boolean }[];
  aborted: string | null;
}

describe('npm run loadtest against a local Sluice', () => {
  let t: TestApp;
  let url: string;
  let source: { id: string; writeKey: string };
  let other: { id: string; writeKey: string };
  let readKey: string;
  let dir: string;

  beforeAll(async () => {
    t = await startApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    source = await createSource(t);
    other = await createSource(t);
    const key = await t.http
      .post('/v1/admin/keys')
      .set('Authorization', `Bearer ${t.adminKey}`)
      .send({ kind: 'read', name: 'loadtest', sourceIds: [source.id, other.id] });
    expect(key.status).toBe(201);
    readKey = key.body.key;
    dir = mkdtempSync(join(tmpdir(), 'sluice-loadtest-'));
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ReportJson;

  it('passes a smoke run and verifies that every acknowledged event is stored', async () => {
    const out = join(dir, 'smoke.json');
    const r = await loadtest([
      '--url',
      url,
      '--write-key',
      source.writeKey,
      '--read-key',
      readKey,
      '--source-id',
      source.id,
      '--profile',
      'smoke',
      '--duration',
      '4',
      '--out',
      out,
    ]);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^PASSED$/m);
    expect(r.stdout).toMatch(
      /latency {4}from the intended send time, ms: p50 [\d.]+ {2}p90 [\d.]+ {2}p99 [\d.]+/,
    );
    const report = read(out);
    expect(report.passed).toBe(true);
    expect(report.requests).toMatchObject({ sent: 20, ok: 20, errors: 0, missed: 0 });
    expect(report.statuses).toEqual({ '200': 20 });
    expect(report.latencyMs.p99).toBeGreaterThan(0);
    const v = report.verification!;
    expect(v.checked).toBe(report.events.acknowledged);
    expect(v.arrived).toBe(v.checked);
    expect(v.missingTotal).toBe(0);
    expect(v.counts).toMatchObject({ counted: report.events.acknowledged, ok: true });
    // What the database holds, not only what the tool says: one row per acknowledged event.
    expect(await countEvents(source.id)).toBe(report.events.acknowledged);
  });

  it('fails with exit 3 and a readable reason when the write key is wrong', async () => {
    const r = await loadtest([
      '--url',
      url,
      '--write-key',
      'sk_write_nope_0000000000000000000000',
      '--profile',
      'smoke',
      '--duration',
      '2',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/ABORTED: \/v1\/\w+ answered 401: .+ \(check --write-key\)/);
    expect(r.stdout).toMatch(/FAILED: the run could not be completed \(exit 3\)/);
  });

  it('exits 1 when a threshold cannot be met (p99 < 0.001 ms)', async () => {
    const out = join(dir, 'strict.json');
    const r = await loadtest([
      '--url',
      url,
      '--write-key',
      source.writeKey,
      '--duration',
      '2',
      '--p99-ms',
      '0.001',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL p99 latency/);
    expect(r.stdout).toMatch(/^FAILED: p99 latency \(exit 1\)$/m);
    const report = read(out);
    expect(report.checks.find((c) => c.name === 'p99 latency')!.ok).toBe(false);
    expect(report.checks.filter((c) => c.name !== 'p99 latency').every((c) => c.ok)).toBe(true);
    expect(report.verification).toBeNull();
  });

  it('reports the events that did not arrive (verified against another source) by messageId', async () => {
    const out = join(dir, 'missing.json');
    const r = await loadtest([
      '--url',
      url,
      '--write-key',
      source.writeKey,
      '--read-key',
      readKey,
      '--source-id',
      other.id,
      '--duration',
      '1',
      '--verify-timeout',
      '3',
      '--run-id',
      'lt-e2e-missing',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    const report = read(out);
    const v = report.verification!;
    expect(v.arrived).toBe(0);
    expect(v.missingTotal).toBe(report.events.acknowledged);
    expect(v.missing).toContain('lt-e2e-missing-0');
    expect(v.counts).toMatchObject({ counted: 0, ok: false });
    // the verifier checks concurrently, so the order of the listed ids is not fixed
    expect(r.stdout).toMatch(/missing: lt-e2e-missing-\d+\b/);
    expect(r.stdout).toMatch(/FAIL events verified/);
  });

  it('exits 2 on a usage error, naming the problem', async () => {
    const r = await loadtest(['--url', url, '--write-key', source.writeKey, '--profile', 'spike']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--profile must be one of smoke, load, stress, soak/);
    expect(r.stderr).toMatch(/Usage: npm run loadtest/);
  });
});

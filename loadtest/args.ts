import { randomBytes } from 'node:crypto';
import { PROFILE_NAMES, ProfileName, ProfileOverrides } from './profiles';

/** A command line that cannot be run: exit code 2, with this message and the usage. */
export class UsageError extends Error {}

export interface Options {
  url: URL;
  writeKey: string;
  readKey?: string;
  sourceId?: string;
  profile: ProfileName;
  overrides: ProfileOverrides;
  out?: string;
  maxInFlight: number;
  timeoutMs: number;
  maxRetries: number;
  /** Longest Retry-After the client waits before retrying (s); a longer one is cut to this. */
  maxRetryAfterS: number;
  batchShare: number;
  batchSize: number;
  gzip: boolean;
  runId: string;
}

export const USAGE = `Usage: npm run loadtest -- --url URL --write-key KEY [options]

  --url URL              the deployment's base URL (https://sluice.example.com)
  --write-key KEY        a source's write key (or SLUICE_WRITE_KEY)
  --read-key KEY         a read or admin key: verify that acknowledged events arrived (or SLUICE_READ_KEY)
  --source-id ID         the write key's source (needed with --read-key)
  --profile NAME         smoke | load | stress | soak (default smoke; see docs/loadtest.md)
  --rate N               peak requests per second (scales the profile's stages)
  --duration S           run length in seconds (scales the profile's stages)
  --out FILE             write the result as JSON
  --max-in-flight N      requests outstanding at once; a send due beyond it is counted missed (default 64)
  --timeout MS           per-request timeout (default 10000)
  --max-retries N        retries of a 429/503 per Retry-After (default 3)
  --max-retry-after S    longest Retry-After honoured (default 30)
  --batch-share F        share of requests that are /v1/batch, 0..1 (default 0.2)
  --batch-size N         events per batch request (default 20)
  --no-gzip              send plain JSON instead of Content-Encoding: gzip
  --verify-sample F      share of acknowledged events whose receipt is checked, 0..1 (profile default)
  --verify-timeout S     how long to wait for events to arrive (profile default)
  --p99-ms MS            replace the profile's p99 threshold
  --max-error-rate F     replace the profile's error-rate threshold (0..1)
  --min-verified F       replace the profile's verified-share threshold (0..1)
  --run-id ID            tag of this run's messageIds and context.loadtest.run (default random)
  --help                 this text

Exit codes: 0 thresholds met, 1 a threshold missed, 2 usage error, 3 the run could not be made
(target unreachable, key refused).`;

const FLAGS = new Set([
  'url',
  'write-key',
  'read-key',
  'source-id',
  'profile',
  'rate',
  'duration',
  'out',
  'max-in-flight',
  'timeout',
  'max-retries',
  'max-retry-after',
  'batch-share',
  'batch-size',
  'verify-sample',
  'verify-timeout',
  'p99-ms',
  'max-error-rate',
  'min-verified',
  'run-id',
]);
const SWITCHES = new Set(['no-gzip', 'help']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Splits `--name value`, `--name=value` and switches; refuses unknown flags, repeats and strays. */
export function splitFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (flags.has(name)) throw new UsageError(`--${name} given twice`);
    if (SWITCHES.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, 'true');
    } else if (FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--')))
        throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return flags;
}

function num(
  flags: Map<string, string>,
  name: string,
  check: (n: number) => boolean,
  what: string,
): number | undefined {
  const raw = flags.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new UsageError(`--${name} must be ${what} (got "${raw}")`);
  return n;
}

const positive = (n: number) => n > 0;
const share = (n: number) => n >= 0 && n <= 1;
const whole = (min: number, max: number) => (n: number) =>
  Number.isInteger(n) && n >= min && n <= max;

/**
 * The options of a run, from the command line and the key fallbacks the CLI read from the
 * environment (so keys need not stand in a process list). `null`: --help was asked for.
 */
export function parseArgs(
  argv: string[],
  fallback: { writeKey?: string; readKey?: string } = {},
): Options | null {
  const flags = splitFlags(argv);
  if (flags.has('help')) return null;

  const rawUrl = flags.get('url');
  if (!rawUrl) throw new UsageError('--url is required');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new UsageError(`--url is not a URL: "${rawUrl}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url must be http:// or https:// (got ${url.protocol})`);

  const writeKey = flags.get('write-key') ?? fallback.writeKey;
  if (!writeKey) throw new UsageError('--write-key is required (or set SLUICE_WRITE_KEY)');
  const readKey = flags.get('read-key') ?? fallback.readKey;
  const sourceId = flags.get('source-id');
  if (readKey && !sourceId)
    throw new UsageError(
      '--source-id is required with --read-key (verification reads that source)',
    );
  if (sourceId && !UUID.test(sourceId))
    throw new UsageError(`--source-id must be a source's id, a UUID (got "${sourceId}")`);

  const profile = flags.get('profile') ?? 'smoke';
  if (!(PROFILE_NAMES as readonly string[]).includes(profile))
    throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')} (got "${profile}")`);

  const runId =
    flags.get('run-id') ?? `lt-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  if (!/^[A-Za-z0-9_-]{1,60}$/.test(runId))
    throw new UsageError('--run-id may hold letters, digits, _ and - only (at most 60)');

  return {
    url,
    writeKey,
    readKey: readKey || undefined,
    sourceId,
    profile: profile as ProfileName,
    overrides: {
      rate: num(flags, 'rate', positive, 'a positive number of requests per second'),
      durationS: num(flags, 'duration', positive, 'a positive number of seconds'),
      verifySample: num(flags, 'verify-sample', share, 'a share between 0 and 1'),
      verifyTimeoutS: num(flags, 'verify-timeout', positive, 'a positive number of seconds'),
      thresholds: {
        p99Ms: num(flags, 'p99-ms', positive, 'a positive number of milliseconds'),
        maxErrorRate: num(flags, 'max-error-rate', share, 'a share between 0 and 1'),
        minVerified: num(flags, 'min-verified', share, 'a share between 0 and 1'),
      },
    },
    out: flags.get('out'),
    maxInFlight:
      num(flags, 'max-in-flight', whole(1, 100_000), 'a whole number from 1 to 100000') ?? 64,
    timeoutMs:
      num(flags, 'timeout', whole(1, 600_000), 'a whole number of milliseconds up to 600000') ??
      10_000,
    maxRetries: num(flags, 'max-retries', whole(0, 100), 'a whole number from 0 to 100') ?? 3,
    maxRetryAfterS: num(flags, 'max-retry-after', positive, 'a positive number of seconds') ?? 30,
    batchShare: num(flags, 'batch-share', share, 'a share between 0 and 1') ?? 0.2,
    batchSize: num(flags, 'batch-size', whole(1, 2500), 'a whole number from 1 to 2500') ?? 20,
    gzip: !flags.has('no-gzip'),
    runId,
  };
}

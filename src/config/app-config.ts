import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigValidationError, EnvironmentVariables, Role, TracesSampler, validateEnvironment } from './environment';

/** OpenTelemetry tracing, from the OTEL_* variables (null: off, nothing of the SDK is loaded). */
export interface TracingConfig {
  serviceName: string;
  /** Where OTLP/HTTP (JSON) spans are POSTed. */
  tracesUrl: string;
  sampler: TracesSampler;
  /** The ratio of the traceidratio samplers, 0..1. */
  ratio: number;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded. */
  resourceAttributes: Record<string, string>;
}

/**
 * Typed, validated configuration. Built once per process from the environment; injected as
 * `AppConfig` everywhere (never read process.env elsewhere).
 */
export class AppConfig {
  readonly role: Role;
  readonly nodeEnv: EnvironmentVariables['NODE_ENV'];
  readonly http: { host: string; port: number };
  readonly database: { url: string; poolSize: number; ssl: false | { verify: boolean; ca?: string } };
  readonly redis: { url: string; prefix: string; durability: 'fsync' | 'replicas' | 'none'; waitReplicas: number; waitTimeoutMs: number };
  readonly admin: { token: string | null; generated: boolean };
  readonly log: { level: string; format: 'json' | 'pretty' };
  readonly limits: { maxEventBytes: number; maxRequestBytes: number; maxBatchEvents: number; maxBytesInFlight: number; bytesInFlightWaitMs: number; maxContextFanoutBytes: number; maxEventDepth: number };
  readonly retentionDays: number;
  readonly batching: { flushEvents: number; flushMs: number; maxInFlight: number; jobMaxEvents: number; jobFormat: 'rows' | 'events'; enqueueTimeoutMs: number };
  readonly worker: {
    concurrency: number;
    attempts: number;
    backoffMs: number;
    lockMs: number;
    stalledIntervalMs: number;
    maxStalls: number;
    outageMaxBackoffMs: number;
    partitionDaysAhead: number;
  };
  /** Privacy deletions: rows per batch transaction. */
  readonly lifecycle: { batchRows: number; retentionIntervalMs: number };
  readonly shutdownTimeoutMs: number;
  readonly keyCacheTtlMs: number;
  /** Fastify's trustProxy: false, true, a hop count, or a list of addresses/CIDRs. */
  readonly trustProxy: boolean | number | string[];
  /** Where SDKs reach the api (PUBLIC_URL, no trailing slash); null: from each request. */
  readonly publicUrl: string | null;
  readonly rateLimits: { rps: number; eps: number; dailyQuota: number; apiRps: number };
  readonly backpressure: { maxBacklogEvents: number; maxRedisMemoryPercent: number };
  /** Database lookups of keys not in the cache: per client IP and per process, per second (0: no limit). */
  readonly keyLookups: { perIp: number; perSecond: number };
  /** A separate listener for /metrics (null: on the HTTP port). */
  readonly metricsPort: number | null;
  readonly query: { rollups: boolean; statementTimeoutMs: number; maxBuckets: number; cacheTtlMs: number; readUrl: string | null };
  /** The live debugger: events per second per source published to listeners, streams per process. */
  readonly live: { maxEventsPerSecond: number; maxListeners: number };
  readonly tracing: TracingConfig | null;

  constructor(env: EnvironmentVariables) {
    this.role = env.ROLE;
    this.nodeEnv = env.NODE_ENV;
    this.http = { host: env.HOST, port: env.PORT ?? (env.ROLE === 'worker' ? 3001 : 3000) };
    this.database = {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      ssl: env.DATABASE_SSL === 'off' ? false : { verify: env.DATABASE_SSL === 'verify-full', ca: env.DATABASE_SSL_CA ? readCa(env.DATABASE_SSL_CA) : undefined },
    };
    this.redis = { url: env.REDIS_URL, prefix: env.QUEUE_PREFIX, durability: env.REDIS_DURABILITY, waitReplicas: env.REDIS_WAIT_REPLICAS, waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS };
    // A development install should work without setup, so it gets a per-run token that
    // main.ts prints; production must opt in explicitly.
    const generate = !env.ADMIN_TOKEN && env.NODE_ENV !== 'production';
    this.admin = {
      token: env.ADMIN_TOKEN ?? (generate ? `dev_${randomBytes(18).toString('base64url')}` : null),
      generated: generate,
    };
    this.log = {
      level: env.LOG_LEVEL,
      format: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty'),
    };
    this.limits = {
      maxEventBytes: env.MAX_EVENT_BYTES,
      maxRequestBytes: env.MAX_REQUEST_BYTES,
      maxBatchEvents: env.MAX_BATCH_EVENTS,
      maxBytesInFlight: env.MAX_BYTES_IN_FLIGHT,
      bytesInFlightWaitMs: env.BYTES_IN_FLIGHT_WAIT_MS,
      maxContextFanoutBytes: env.MAX_BATCH_CONTEXT_FANOUT_BYTES,
      maxEventDepth: env.MAX_EVENT_DEPTH,
    };
    this.retentionDays = env.RETENTION_DAYS;
    this.batching = {
      flushEvents: env.BATCH_FLUSH_EVENTS,
      flushMs: env.BATCH_FLUSH_MS,
      maxInFlight: env.BATCH_MAX_IN_FLIGHT,
      jobMaxEvents: env.JOB_MAX_EVENTS,
      jobFormat: env.JOB_FORMAT,
      enqueueTimeoutMs: env.ENQUEUE_TIMEOUT_MS,
    };
    this.worker = {
      concurrency: env.WORKER_CONCURRENCY,
      attempts: env.JOB_ATTEMPTS,
      backoffMs: env.JOB_BACKOFF_MS,
      lockMs: env.JOB_LOCK_MS,
      stalledIntervalMs: env.JOB_STALLED_INTERVAL_MS,
      maxStalls: env.JOB_MAX_STALLS,
      outageMaxBackoffMs: env.DB_OUTAGE_MAX_BACKOFF_MS,
      partitionDaysAhead: env.PARTITION_DAYS_AHEAD,
    };
    this.lifecycle = { batchRows: env.LIFECYCLE_BATCH_ROWS, retentionIntervalMs: env.RETENTION_INTERVAL_MS };
    this.shutdownTimeoutMs = env.SHUTDOWN_TIMEOUT_MS;
    this.keyCacheTtlMs = env.KEY_CACHE_TTL_MS;
    const tp = env.TRUST_PROXY.trim();
    this.trustProxy = tp === 'true' ? true : tp === 'false' ? false : /^\d+$/.test(tp) ? Number(tp) : tp.split(',').map((s) => s.trim());
    this.publicUrl = env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, '') : null;
    this.rateLimits = { rps: env.RATE_LIMIT_RPS, eps: env.RATE_LIMIT_EPS, dailyQuota: env.DAILY_EVENT_QUOTA, apiRps: env.API_RATE_LIMIT_RPS };
    this.backpressure = { maxBacklogEvents: env.BACKLOG_LIMIT_EVENTS, maxRedisMemoryPercent: env.REDIS_MEMORY_LIMIT_PERCENT };
    this.keyLookups = { perIp: env.KEY_LOOKUPS_PER_IP, perSecond: env.KEY_LOOKUPS_PER_SECOND };
    this.metricsPort = env.METRICS_PORT ?? null;
    this.query = { rollups: env.ROLLUPS === 'on', statementTimeoutMs: env.QUERY_STATEMENT_TIMEOUT_MS, maxBuckets: env.QUERY_MAX_BUCKETS, cacheTtlMs: env.QUERY_CACHE_TTL_MS, readUrl: env.DATABASE_READ_URL ?? null };
    this.live = { maxEventsPerSecond: env.LIVE_MAX_EVENTS_PER_SECOND, maxListeners: env.LIVE_MAX_LISTENERS };
    this.tracing = env.OTEL_SDK_DISABLED ? null : tracingConfig(env);
  }

  get servesApi(): boolean {
    return this.role !== 'worker';
  }
  get runsWorker(): boolean {
    return this.role !== 'api';
  }
}

function tracingConfig(env: EnvironmentVariables): TracingConfig {
  const base = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '');
  return {
    serviceName: env.OTEL_SERVICE_NAME ?? `sluice-${env.ROLE}`,
    tracesUrl: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base}/v1/traces`,
    sampler: env.OTEL_TRACES_SAMPLER,
    ratio: env.OTEL_TRACES_SAMPLER_ARG ?? 1,
    resourceAttributes: parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES ?? ''),
  };
}

/** `key=value,key2=value2` with percent-encoded values, as the OpenTelemetry specification defines it. */
export function parseResourceAttributes(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      throw new ConfigValidationError(`Invalid configuration:\n  OTEL_RESOURCE_ATTRIBUTES: the value of ${key} is not valid percent-encoding`);
    }
  }
  return out;
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigValidationError(`Invalid configuration:\n  DATABASE_SSL_CA=${JSON.stringify(path)}: cannot read the CA file (${(err as Error).message})`);
  }
}

/** The one reader of process.env. `overrides` lets tests start an app with other settings. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): AppConfig {
  return new AppConfig(validateEnvironment({ ...process.env, ...overrides }));
}

import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

/**
 * Every environment variable Sluice reads, with its default and a description.
 * docs/configuration.md is generated from this list (`npm run docs:config`), so this is the
 * one place a variable is documented.
 */
export interface VariableDoc {
  name: string;
  default: string;
  description: string;
  secret?: boolean;
}

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const v = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

const toNumber = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(String(value)) ? Number(value) : value;

/** The sampler names of the OpenTelemetry specification (OTEL_TRACES_SAMPLER). */
export const TRACES_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TracesSampler = (typeof TRACES_SAMPLERS)[number];

// DATABASE_SSL keeps its boolean spellings: true means verified TLS, never "encrypt but trust anyone".
const toSslMode = ({ value }: { value: unknown }) => {
  const b = toBool({ value });
  if (b === true) return 'verify-full';
  if (b === false) return 'off';
  return typeof value === 'string' ? value.toLowerCase() : value;
};

export class EnvironmentVariables {
  @IsIn(ROLES) ROLE: Role = 'all';
  @IsIn(['development', 'production', 'test']) NODE_ENV: 'development' | 'production' | 'test' =
    'development';
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT?: number;
  @IsString() HOST = '0.0.0.0';

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sluice';
  @Transform(toInt) @IsInt() @Min(1) @Max(200) DATABASE_POOL_SIZE = 10;
  @Transform(toSslMode) @IsIn(['off', 'verify-full', 'no-verify'], { message: 'must be off, verify-full or no-verify (false and true mean off and verify-full)' })
  DATABASE_SSL: 'off' | 'verify-full' | 'no-verify' = 'off';
  @IsOptional() @IsString() DATABASE_SSL_CA?: string;

  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'must be 1-64 characters of A-Z a-z 0-9 _ . : -' })
  QUEUE_PREFIX = 'sluice';
  @IsIn(['fsync', 'replicas', 'none']) REDIS_DURABILITY: 'fsync' | 'replicas' | 'none' = 'fsync';
  @Transform(toInt) @IsInt() @Min(1) @Max(16) REDIS_WAIT_REPLICAS = 1;
  @Transform(toInt) @IsInt() @Min(10) @Max(60000) REDIS_WAIT_TIMEOUT_MS = 500;

  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  @IsIn(['error', 'warn', 'info', 'debug', 'verbose']) LOG_LEVEL = 'info';
  @IsOptional() @IsIn(['json', 'pretty']) LOG_FORMAT?: 'json' | 'pretty';

  @Transform(toInt) @IsInt() @Min(256) @Max(1048576) MAX_EVENT_BYTES = 32768;
  @Transform(toInt) @IsInt() @Min(1024) @Max(104857600) MAX_REQUEST_BYTES = 512000;
  @Transform(toInt) @IsInt() @Min(1) @Max(100000) MAX_BATCH_EVENTS = 2500;
  @Transform(toInt) @IsInt() @Min(0) @Max(4294967296) MAX_BYTES_IN_FLIGHT = 8388608;
  @Transform(toInt) @IsInt() @Min(0) @Max(60000) BYTES_IN_FLIGHT_WAIT_MS = 5000;
  @Transform(toInt) @IsInt() @Min(0) @Max(1073741824) MAX_BATCH_CONTEXT_FANOUT_BYTES = 2048000;
  @Transform(toInt) @IsInt() @Min(4) @Max(1000) MAX_EVENT_DEPTH = 64;
  @Transform(toInt) @IsInt() @Min(1) @Max(36500) RETENTION_DAYS = 730;
  @Transform(toInt) @IsInt() @Min(1) @Max(10000) BATCH_FLUSH_EVENTS = 500;
  @Transform(toInt) @IsInt() @Min(0) @Max(1000) BATCH_FLUSH_MS = 5;
  @Transform(toInt) @IsInt() @Min(0) @Max(64) BATCH_MAX_IN_FLIGHT = 2;
  @Transform(toInt) @IsInt() @Min(1) @Max(10000) JOB_MAX_EVENTS = 500;
  @IsIn(['rows', 'events']) JOB_FORMAT: 'rows' | 'events' = 'rows';
  @Transform(toInt) @IsInt() @Min(50) @Max(60000) ENQUEUE_TIMEOUT_MS = 1000;

  @Transform(toInt) @IsInt() @Min(1) @Max(64) WORKER_CONCURRENCY = 4;
  @Transform(toInt) @IsInt() @Min(1) @Max(100) JOB_ATTEMPTS = 8;
  @Transform(toInt) @IsInt() @Min(10) @Max(600000) JOB_BACKOFF_MS = 500;
  @Transform(toInt) @IsInt() @Min(1000) @Max(600000) JOB_LOCK_MS = 10000;
  @Transform(toInt) @IsInt() @Min(500) @Max(600000) JOB_STALLED_INTERVAL_MS = 2000;
  @Transform(toInt) @IsInt() @Min(1) @Max(100) JOB_MAX_STALLS = 3;
  @Transform(toInt) @IsInt() @Min(100) @Max(600000) DB_OUTAGE_MAX_BACKOFF_MS = 5000;
  @Transform(toInt) @IsInt() @Min(0) @Max(366) PARTITION_DAYS_AHEAD = 7;
  @Transform(toInt) @IsInt() @Min(100) @Max(100000) LIFECYCLE_BATCH_ROWS = 5000;
  @Transform(toInt) @IsInt() @Min(1000) @Max(604800000) RETENTION_INTERVAL_MS = 3600000;
  @Transform(toInt) @IsInt() @Min(1000) @Max(600000) SHUTDOWN_TIMEOUT_MS = 25000;
  // At most 5 s: this bounds how long a revoked key keeps working if a pub/sub message is lost.
  @Transform(toInt) @IsInt() @Min(0) @Max(5000) KEY_CACHE_TTL_MS = 5000;

  @Matches(/^(true|false|\d{1,2}|([0-9a-fA-F.:]+(\/\d{1,3})?)(,\s*[0-9a-fA-F.:]+(\/\d{1,3})?)*)$/, {
    message: 'must be false, true, a hop count, or a comma-separated list of proxy IPs/CIDRs',
  })
  TRUST_PROXY = 'false';
  @Transform(toInt) @IsInt() @Min(0) RATE_LIMIT_RPS = 0;
  @Transform(toInt) @IsInt() @Min(0) RATE_LIMIT_EPS = 0;
  @Transform(toInt) @IsInt() @Min(0) DAILY_EVENT_QUOTA = 0;
  @Transform(toInt) @IsInt() @Min(0) API_RATE_LIMIT_RPS = 50;
  @Transform(toInt) @IsInt() @Min(0) BACKLOG_LIMIT_EVENTS = 1_000_000;
  @Transform(toInt) @IsInt() @Min(0) @Max(100) REDIS_MEMORY_LIMIT_PERCENT = 90;
  @Transform(toInt) @IsInt() @Min(0) @Max(100000) KEY_LOOKUPS_PER_IP = 20;
  @Transform(toInt) @IsInt() @Min(0) @Max(1000000) KEY_LOOKUPS_PER_SECOND = 500;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) METRICS_PORT?: number;
  @Transform(({ value }) => (typeof value === 'string' ? ({ true: 'on', '1': 'on', yes: 'on', false: 'off', '0': 'off', no: 'off' } as Record<string, string>)[value.toLowerCase()] ?? value.toLowerCase() : value))
  @IsIn(['on', 'off'], { message: 'must be on or off (true/false, 1/0, yes/no mean the same)' })
  ROLLUPS: 'on' | 'off' = 'on';
  @Transform(toInt) @IsInt() @Min(100) @Max(600000) QUERY_STATEMENT_TIMEOUT_MS = 10000;
  @Transform(toInt) @IsInt() @Min(10) @Max(100000) QUERY_MAX_BUCKETS = 5000;
  @Transform(toInt) @IsInt() @Min(0) @Max(86400000) QUERY_CACHE_TTL_MS = 30000;
  @IsOptional() @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// or postgresql:// URL' }) DATABASE_READ_URL?: string;
  @IsOptional() @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, { message: 'must be an http:// or https:// URL without query or fragment' }) PUBLIC_URL?: string;
  @Transform(toInt) @IsInt() @Min(1) @Max(10000) LIVE_MAX_EVENTS_PER_SECOND = 50;
  @Transform(toInt) @IsInt() @Min(0) @Max(100000) LIVE_MAX_LISTENERS = 100;

  // Tracing (OpenTelemetry): the names and meanings of the OpenTelemetry specification, except
  // that the SDK is off unless OTEL_SDK_DISABLED=false.
  @Transform(toBool) @IsBoolean({ message: 'must be true or false' }) OTEL_SDK_DISABLED = true;
  @IsOptional() @Matches(/^https?:\/\/[^\s/?#]+[^\s]*$/, { message: 'must be an http:// or https:// URL' }) OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  @IsOptional() @Matches(/^https?:\/\/[^\s/?#]+[^\s]*$/, { message: 'must be an http:// or https:// URL' }) OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  @IsOptional() @Matches(/^[A-Za-z0-9_.:/-]{1,128}$/, { message: 'must be 1-128 characters of A-Z a-z 0-9 _ . : / -' }) OTEL_SERVICE_NAME?: string;
  @IsIn(TRACES_SAMPLERS) OTEL_TRACES_SAMPLER: TracesSampler = 'parentbased_always_on';
  @IsOptional() @Transform(toNumber) @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number from 0 to 1' }) @Min(0) @Max(1) OTEL_TRACES_SAMPLER_ARG?: number;
  @IsOptional() @Matches(/^\s*[^\s=,]+\s*=[^,]*(,\s*[^\s=,]+\s*=[^,]*)*$/, { message: 'must be key=value pairs separated by commas (values percent-encoded)' })
  OTEL_RESOURCE_ATTRIBUTES?: string;
}

export const VARIABLES: VariableDoc[] = [
  { name: 'ROLE', default: 'all', description: '`api` (HTTP ingestion, admin, docs), `worker` (queue consumers) or `all` (both in one process).' },
  { name: 'NODE_ENV', default: 'development', description: '`production` switches logs to JSON and never generates an `ADMIN_TOKEN` (bootstrap stays off unless one is set).' },
  { name: 'PORT', default: '3000 (api, all) / 3001 (worker)', description: 'HTTP port. The worker serves only `/health/*` and `/metrics` on it.' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface to listen on.' },
  { name: 'DATABASE_URL', default: 'postgres://postgres@127.0.0.1:5432/sluice', description: 'PostgreSQL connection URL. `npm run migration:run` creates the database if it is missing and the user may.', secret: true },
  { name: 'DATABASE_POOL_SIZE', default: '10', description: 'Connections per process.' },
  { name: 'DATABASE_SSL', default: 'off', description: '`verify-full` (or `true`): connect over TLS and verify the server certificate and host name (against `DATABASE_SSL_CA` when set, else the system CAs). `no-verify`: TLS without verification (only when you must). `off` (or `false`): no TLS.' },
  { name: 'DATABASE_SSL_CA', default: '(system CAs)', description: 'Path of a PEM file with the CA(s) that sign the PostgreSQL server certificate (e.g. the RDS CA bundle).' },
  { name: 'REDIS_URL', default: 'redis://127.0.0.1:6379', description: 'Redis URL (`rediss://` for TLS; password in the URL). Redis must use `maxmemory-policy noeviction`.', secret: true },
  { name: 'REDIS_DURABILITY', default: 'fsync', description: 'What a 200 waits for. `fsync`: Redis must run with `appendonly yes` and `appendfsync always` (it replies after the fsync). `replicas`: after each enqueue, `WAIT REDIS_WAIT_REPLICAS REDIS_WAIT_TIMEOUT_MS`; fewer acknowledgements answer 503 (the setting for ElastiCache, which has no AOF). `none`: a Redis crash may lose about a second of acknowledged events. The api checks at start what Redis offers and warns when it is weaker.' },
  { name: 'REDIS_WAIT_REPLICAS', default: '1', description: '`replicas` mode: replicas that must acknowledge each enqueue.' },
  { name: 'REDIS_WAIT_TIMEOUT_MS', default: '500', description: '`replicas` mode: how long an enqueue waits for them before answering 503.' },
  { name: 'QUEUE_PREFIX', default: 'sluice', description: 'Prefix of every Redis key Sluice writes; lets several installations (or test runs) share one Redis.' },
  { name: 'ADMIN_TOKEN', default: '(generated in development)', description: 'Bootstrap credential, at least 16 characters: as `Authorization: Bearer <ADMIN_TOKEN>` it can only create admin keys (`POST /v1/admin/keys`); everything else needs a key. Unset in development: a random one is generated and printed at start. Unset in production: bootstrap is off (use `npm run cli -- keys:create --kind admin`).', secret: true },
  { name: 'LOG_LEVEL', default: 'info', description: '`error`, `warn`, `info`, `debug` or `verbose`.' },
  { name: 'LOG_FORMAT', default: 'json in production, pretty otherwise', description: '`json` (one object per line) or `pretty`.' },
  { name: 'MAX_EVENT_BYTES', default: '32768', description: 'Largest accepted event (serialized JSON). Larger events are rejected one by one.' },
  { name: 'MAX_REQUEST_BYTES', default: '512000', description: 'Largest request body after gzip decompression; larger requests get 413.' },
  { name: 'MAX_BATCH_EVENTS', default: '2500', description: 'Most events in one `/v1/batch`; longer batches get 400 `batch_too_long`.' },
  { name: 'MAX_BYTES_IN_FLIGHT', default: '8388608', description: 'HTTP backpressure (api role): the request bodies of ingestion requests in flight in one api process, together, at most this many bytes (a plain body counts its Content-Length; a compressed one 10 times that, a body of unknown length MAX_REQUEST_BYTES, at most MAX_REQUEST_BYTES each). Further requests wait, unread, in arrival order; this bounds the memory parsed bodies take, whatever the load (0: no bound).' },
  { name: 'BYTES_IN_FLIGHT_WAIT_MS', default: '5000', description: 'How long a request may wait for room under MAX_BYTES_IN_FLIGHT before it is answered 503 `server_busy` with Retry-After (0: at once).' },
  { name: 'MAX_BATCH_CONTEXT_FANOUT_BYTES', default: '2048000', description: 'A batch envelope `context`/`integrations` is merged into each of its events: its size times the number of events may not exceed this (413 `batch_context_fanout`), which bounds what one request can cost PostgreSQL.' },
  { name: 'MAX_EVENT_DEPTH', default: '64', description: 'Deepest nesting of objects and arrays in an event; deeper events are rejected one by one (`event_too_deep`).' },
  { name: 'RETENTION_DAYS', default: '730', description: 'The retention window, in days. Events whose (corrected) timestamp is older are rejected at the door (`timestamp_past_retention`), and daily partitions are created for any day inside it that receives events. The retention job (worker role, every RETENTION_INTERVAL_MS) drops the daily partitions of UTC days wholly older than the window, with their dedup claims and rollups, and deletes dead letters older than it. A source may keep fewer days (`retentionDays` on the source).' },
  { name: 'BATCH_FLUSH_EVENTS', default: '500', description: 'The api groups concurrent requests into one queue job; it flushes at this many events...' },
  { name: 'BATCH_FLUSH_MS', default: '5', description: '...or this many milliseconds after the first pending event, whichever comes first.' },
  { name: 'BATCH_MAX_IN_FLIGHT', default: '2', description: 'While fewer flushes than this are under way, pending events go out at the end of the event-loop turn (no added latency at low load); while that many are under way, events gather until one completes (bigger jobs under load). 0: flush only on BATCH_FLUSH_EVENTS or BATCH_FLUSH_MS.' },
  { name: 'JOB_MAX_EVENTS', default: '500', description: 'Largest number of events in one queue job; bigger requests are split.' },
  { name: 'JOB_FORMAT', default: 'rows', description: 'What the api writes into a job. `rows`: each event already in its stored form (COPY lines), so the worker parses nothing: CPU moves from the worker to the api. `events`: the events as JSON, enriched and rendered by the worker (cheaper for the api). Workers read both, so it can change at any time; see docs/performance.md for the measured trade-off.' },
  { name: 'ENQUEUE_TIMEOUT_MS', default: '1000', description: 'How long a request waits for Redis before answering 503 with `Retry-After`.' },
  { name: 'WORKER_CONCURRENCY', default: '4', description: 'Jobs a worker process writes in parallel (each uses one database connection).' },
  { name: 'JOB_ATTEMPTS', default: '8', description: 'Attempts per job on unexpected errors before its events go to `dead_letters`. A database outage never uses them up, and events PostgreSQL refuses are dead-lettered at once.' },
  { name: 'JOB_BACKOFF_MS', default: '500', description: 'First retry delay after an unexpected error; doubles on each attempt.' },
  { name: 'JOB_LOCK_MS', default: '10000', description: 'Bull job lock: a worker renews it every half of this while it runs a job; a job whose lock lapses (its worker died or lost Redis) is taken over.' },
  { name: 'JOB_STALLED_INTERVAL_MS', default: '2000', description: 'How often workers look for jobs whose lock lapsed (worker SIGKILLed, OOM, Redis connection lost) and run them again: together with JOB_LOCK_MS, how late such a job can be.' },
  { name: 'JOB_MAX_STALLS', default: '3', description: 'A job whose worker died this many times while running it is treated as poison: split in halves and retried until the event that kills workers stands alone, which is dead-lettered.' },
  { name: 'DB_OUTAGE_MAX_BACKOFF_MS', default: '5000', description: 'While PostgreSQL is unavailable (connection refused or lost, SQLSTATE 08, 53, 57P0x, timeouts) the worker holds its jobs and retries with a backoff capped at this, for as long as the outage lasts, without using up JOB_ATTEMPTS.' },
  { name: 'PARTITION_DAYS_AHEAD', default: '7', description: 'Daily `events` partitions the worker keeps created ahead of today.' },
  { name: 'LIFECYCLE_BATCH_ROWS', default: '5000', description: 'Rows per transaction of a privacy deletion or of a per-source retention cleanup: each batch is one short transaction, so ingestion is never held up for long.' },
  { name: 'RETENTION_INTERVAL_MS', default: '3600000', description: 'How often the retention job runs (worker role): once per interval across all workers (a claim in `scheduled_runs`), retried a minute after a failure. SluiceRetentionNotRunning alerts when it has not succeeded in twice this.' },
  { name: 'SHUTDOWN_TIMEOUT_MS', default: '25000', description: 'Longest graceful drain after SIGTERM before the process exits anyway.' },
  { name: 'KEY_CACHE_TTL_MS', default: '5000', description: 'How long an api process trusts a verified key (and its source\'s limits) before checking the database again; at most 5000. Revocations also reach every replica at once over Redis pub/sub.' },
  { name: 'TRUST_PROXY', default: 'false', description: 'Honour `X-Forwarded-For` only from these proxies: `true` (any: only behind a proxy that overwrites the header), a hop count, or a comma-separated list of IPs/CIDRs.' },
  { name: 'PUBLIC_URL', default: '(from each request)', description: 'The address SDKs reach this api at, with any path prefix of an ingress (`https://sluice.example.com`, `https://example.com/sluice`). The SDK settings routes (`GET /v1/projects/<writeKey>/settings` for analytics.js, `GET /sourceConfig` for RudderStack\'s JavaScript SDK) tell browsers to send events there. Unset: the scheme and host of each request (X-Forwarded-Proto and X-Forwarded-Host only with TRUST_PROXY).' },
  { name: 'RATE_LIMIT_RPS', default: '0', description: 'Default ingestion requests per second per source (0: unlimited). Overridable per source.' },
  { name: 'RATE_LIMIT_EPS', default: '0', description: 'Default ingested events per second per source; a batch of 300 counts 300 (0: unlimited). Overridable per source.' },
  { name: 'DAILY_EVENT_QUOTA', default: '0', description: 'Default events per source per UTC day (0: unlimited). Overridable per source.' },
  { name: 'API_RATE_LIMIT_RPS', default: '50', description: 'Requests per second per credential on the admin and query APIs (0: unlimited).' },
  { name: 'BACKLOG_LIMIT_EVENTS', default: '1000000', description: 'Backpressure: above this many queued, unpersisted events, ingestion answers 503 with Retry-After (0: off).' },
  { name: 'REDIS_MEMORY_LIMIT_PERCENT', default: '90', description: 'Backpressure: above this share of Redis `maxmemory`, ingestion answers 503 (0: off; ignored when Redis has no maxmemory).' },
  { name: 'KEY_LOOKUPS_PER_IP', default: '20', description: 'Keys not in an api process\'s cache cost a database lookup: at most this many per second per client IP (honouring TRUST_PROXY), then 429 (0: no limit). Cached keys are never limited by it.' },
  { name: 'KEY_LOOKUPS_PER_SECOND', default: '500', description: 'The same, for all clients together, per api process: a flood of random keys from many addresses cannot reach the database faster (0: no limit).' },
  { name: 'ROLLUPS', default: 'on', description: '`on`: the worker keeps, in the insert transaction, hourly counts per source, type and event name (`event_counts_hourly`) and the users active per UTC day with their count (`event_users_daily`, `event_uniques_daily`); the stats routes read them for whole hours and days. `off`: no rollups; the stats routes read raw events only (for measuring what rollups cost; rebuild with `npm run cli -- rollups:rebuild` before turning them back on).' },
  { name: 'QUERY_STATEMENT_TIMEOUT_MS', default: '10000', description: 'A query-API statement running longer is cancelled and answered `503 query_timeout` (narrow the range or the filters).' },
  { name: 'QUERY_MAX_BUCKETS', default: '5000', description: 'Most buckets one stats answer may hold (`from`–`to` divided by `interval`); more: `400`.' },
  { name: 'QUERY_CACHE_TTL_MS', default: '30000', description: 'How long a stats answer (counts, uniques, top events, funnel, retention) is kept in Redis and served again for the same question: answers may be this stale (events accepted since are missing). 0: no cache. The event list and receipts are never cached.' },
  { name: 'DATABASE_READ_URL', default: '(DATABASE_URL)', description: 'A read replica for the query API (list, receipts, stats). Writes always go to DATABASE_URL. Replication lag shows as events answered `not yet written`/missing from counts for as long as it lasts.', secret: true },
  { name: 'LIVE_MAX_EVENTS_PER_SECOND', default: '50', description: 'Live debugger (`GET /v1/sources/<id>/live`): most events per second per source that an api publishes to its listeners (Redis pub/sub); the rest are counted and reported as `skipped`. Nothing is published for a source nobody listens to.' },
  { name: 'LIVE_MAX_LISTENERS', default: '100', description: 'Live debugger streams one api process serves at once; one more is answered 503 with `Retry-After` (0: the live debugger is off).' },
  { name: 'OTEL_SDK_DISABLED', default: 'true', description: 'Tracing (OpenTelemetry) is off unless this is `false`. Off, nothing of the SDK is loaded and no span is made (docs/observability.md). Unlike the OpenTelemetry default, tracing must be turned on.' },
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: 'http://localhost:4318', description: 'Base URL of the OTLP/HTTP receiver (a Collector); traces go to `<this>/v1/traces` (OTLP/HTTP, JSON encoding).' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', default: '(OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces)', description: 'Full URL traces are sent to, used as it is; wins over OTEL_EXPORTER_OTLP_ENDPOINT.' },
  { name: 'OTEL_SERVICE_NAME', default: 'sluice-<role>', description: 'The `service.name` of every span (`sluice-api`, `sluice-worker` or `sluice-all` by default); wins over a service.name in OTEL_RESOURCE_ATTRIBUTES.' },
  { name: 'OTEL_TRACES_SAMPLER', default: 'parentbased_always_on', description: 'Which traces are kept: `always_on`, `always_off`, `traceidratio` (a share of them, OTEL_TRACES_SAMPLER_ARG), or `parentbased_` + one of these (follow the caller when its `traceparent` says, else the rule). For production: `parentbased_traceidratio` with a small ratio.' },
  { name: 'OTEL_TRACES_SAMPLER_ARG', default: '1', description: 'The ratio of `traceidratio` samplers, from 0 to 1 (0.01: one trace in a hundred). Ignored by the other samplers.' },
  { name: 'OTEL_RESOURCE_ATTRIBUTES', default: '(none)', description: 'More resource attributes of every span, as `key=value,key2=value2` (values percent-encoded), e.g. `deployment.environment.name=production`.' },
  { name: 'METRICS_PORT', default: '(the HTTP port)', description: 'Serve `/metrics` on this port instead of the public one, so Prometheus scrapes a listener the ingress never exposes.' },
];

export class ConfigValidationError extends Error {}

/** Validates raw env into typed values; throws one message naming every bad variable. */
export function validateEnvironment(raw: Record<string, string | undefined>): EnvironmentVariables {
  const known: Record<string, string> = {};
  for (const v of VARIABLES) {
    const value = raw[v.name];
    if (value !== undefined && value !== '') known[v.name] = value;
  }
  const env = plainToInstance(EnvironmentVariables, known, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const shown = VARIABLES.find((v) => v.name === e.property)?.secret ? '(hidden)' : JSON.stringify(known[e.property]);
      return `${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
    });
    throw new ConfigValidationError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const conflicts = crossChecks(env);
  if (conflicts.length > 0) throw new ConfigValidationError(`Invalid configuration:\n  ${conflicts.join('\n  ')}`);
  return env;
}

/** Rules between variables, each valid on its own. */
function crossChecks(env: EnvironmentVariables): string[] {
  const problems: string[] = [];
  const port = env.PORT ?? (env.ROLE === 'worker' ? 3001 : 3000);
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT === port) {
    problems.push(`METRICS_PORT=${env.METRICS_PORT}: must differ from PORT (unset it to serve /metrics on PORT)`);
  }
  if (env.QUERY_STATEMENT_TIMEOUT_MS >= env.SHUTDOWN_TIMEOUT_MS) {
    problems.push(`QUERY_STATEMENT_TIMEOUT_MS=${env.QUERY_STATEMENT_TIMEOUT_MS}: must be below SHUTDOWN_TIMEOUT_MS=${env.SHUTDOWN_TIMEOUT_MS}, or a drain cuts queries still running`);
  }
  if (env.REDIS_DURABILITY === 'replicas' && env.REDIS_WAIT_TIMEOUT_MS >= env.ENQUEUE_TIMEOUT_MS) {
    problems.push(`REDIS_WAIT_TIMEOUT_MS=${env.REDIS_WAIT_TIMEOUT_MS}: must be below ENQUEUE_TIMEOUT_MS=${env.ENQUEUE_TIMEOUT_MS}, or every enqueue waiting for replicas times out first`);
  }
  return problems;
}

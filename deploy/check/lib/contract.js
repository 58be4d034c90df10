'use strict';
// The app contract the deployment assets must match (env names, ports, probes, commands).
// Kept in one place so every check agrees; it mirrors the contract the app is built to.
module.exports = {
  roles: ['api', 'worker', 'all'],
  defaultPorts: { api: 3000, all: 3000, worker: 3001 },
  secretEnv: ['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'DATABASE_READ_URL'],
  configEnv: [
    'ROLE', 'PORT', 'HOST', 'NODE_ENV', 'DATABASE_POOL_SIZE', 'DATABASE_SSL', 'DATABASE_SSL_CA', 'QUEUE_PREFIX',
    'REDIS_DURABILITY', 'REDIS_WAIT_REPLICAS', 'REDIS_WAIT_TIMEOUT_MS',
    'LOG_LEVEL', 'LOG_FORMAT', 'MAX_EVENT_BYTES', 'MAX_REQUEST_BYTES', 'MAX_BATCH_EVENTS', 'MAX_BYTES_IN_FLIGHT', 'BYTES_IN_FLIGHT_WAIT_MS',
    'MAX_BATCH_CONTEXT_FANOUT_BYTES', 'MAX_EVENT_DEPTH', 'RETENTION_DAYS', 'BATCH_FLUSH_EVENTS',
    'BATCH_FLUSH_MS', 'BATCH_MAX_IN_FLIGHT', 'JOB_MAX_EVENTS', 'JOB_FORMAT', 'ENQUEUE_TIMEOUT_MS', 'WORKER_CONCURRENCY', 'JOB_ATTEMPTS',
    'JOB_BACKOFF_MS', 'JOB_LOCK_MS', 'JOB_STALLED_INTERVAL_MS', 'JOB_MAX_STALLS', 'DB_OUTAGE_MAX_BACKOFF_MS',
    'PARTITION_DAYS_AHEAD', 'SHUTDOWN_TIMEOUT_MS', 'KEY_CACHE_TTL_MS', 'TRUST_PROXY', 'PUBLIC_URL', 'RATE_LIMIT_RPS', 'RATE_LIMIT_EPS',
    'DAILY_EVENT_QUOTA', 'API_RATE_LIMIT_RPS', 'BACKLOG_LIMIT_EVENTS', 'REDIS_MEMORY_LIMIT_PERCENT',
    'KEY_LOOKUPS_PER_IP', 'KEY_LOOKUPS_PER_SECOND', 'METRICS_PORT',
    // Query API: rollups (the worker keeps them, the stats routes read them: one value for both),
    // statement timeout, bucket limit, aggregate cache.
    'ROLLUPS', 'QUERY_STATEMENT_TIMEOUT_MS', 'QUERY_MAX_BUCKETS', 'QUERY_CACHE_TTL_MS',
    // Live debugger: publish rate per source, streams per api.
    'LIVE_MAX_EVENTS_PER_SECOND', 'LIVE_MAX_LISTENERS',
    // Data lifecycle: rows per batch transaction (deletions, retention), how often retention runs.
    'LIFECYCLE_BATCH_ROWS', 'RETENTION_INTERVAL_MS',
    // Tracing (OpenTelemetry): off unless OTEL_SDK_DISABLED=false; docs/observability.md.
    'OTEL_SDK_DISABLED', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_SERVICE_NAME',
    'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_RESOURCE_ATTRIBUTES',
  ],
  // Read by Node itself, not by the app: the heap sizing of a role (api.nodeOptions, compose).
  runtimeEnv: ['NODE_OPTIONS'],
  // Set per Deployment (api.* / worker.*), never in the chart's config.
  perDeploymentEnv: ['ROLE', 'PORT'],
  // Secrets only the api reads; the worker, the migrations and the CLI never get them.
  // DATABASE_READ_URL: the read replica of the query API (writes always use DATABASE_URL).
  apiOnlySecretEnv: ['ADMIN_TOKEN', 'DATABASE_READ_URL'],
  // Secrets the chart gives the api only while a value turns them on (env name -> value path):
  // rendered exactly then, from the same Secret as DATABASE_URL, under a key of the same name.
  optionalSecretEnv: { ADMIN_TOKEN: 'secrets.adminToken', DATABASE_READ_URL: 'readReplica.enabled' },
  // Keys the deployment adds beside the app's own (not read by the app).
  deploymentOnlySecretKeys: ['REDIS_PASSWORD'],
  // /metrics on a listener of its own (METRICS_PORT), named "metrics" in the pods: scraped by
  // Prometheus only, never behind the public Service or the Ingress. Probes stay on "http".
  metricsPortName: 'metrics',
  // Where the chart mounts the PostgreSQL CA bundle (databaseCa.*); DATABASE_SSL_CA points there.
  databaseCaPath: '/etc/sluice/database-ca/ca.pem',
  liveness: '/health/live',
  readiness: '/health/ready',
  appCommand: ['node', 'dist/main.js'],
  migrateCommand: ['node', 'dist/database/migrate.js'],
  // Operator CLI: keys and sources without the HTTP API (bootstrap, lost admin keys).
  cliCommand: ['node', 'dist/cli.js'],
  queueName: 'events',
  graceSeconds: { min: 30, max: 60 },
};

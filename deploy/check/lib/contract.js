'use strict';
// The app contract the deployment assets must match (env names, ports, probes, commands).
// Kept in one place so every check agrees; it mirrors the contract the app is built to.
module.exports = {
  roles: ['api', 'worker', 'all'],
  defaultPorts: { api: 3000, all: 3000, worker: 3001 },
  secretEnv: ['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKEN'],
  configEnv: [
    'ROLE', 'PORT', 'HOST', 'NODE_ENV', 'DATABASE_POOL_SIZE', 'DATABASE_SSL', 'QUEUE_PREFIX',
    'LOG_LEVEL', 'LOG_FORMAT', 'MAX_EVENT_BYTES', 'MAX_REQUEST_BYTES', 'BATCH_FLUSH_EVENTS',
    'BATCH_FLUSH_MS', 'BATCH_MAX_IN_FLIGHT', 'JOB_MAX_EVENTS', 'ENQUEUE_TIMEOUT_MS', 'WORKER_CONCURRENCY', 'JOB_ATTEMPTS',
    'JOB_BACKOFF_MS', 'JOB_LOCK_MS', 'JOB_STALLED_INTERVAL_MS', 'PARTITION_DAYS_AHEAD',
    'SHUTDOWN_TIMEOUT_MS', 'KEY_CACHE_TTL_MS', 'TRUST_PROXY', 'RATE_LIMIT_RPS', 'RATE_LIMIT_EPS',
    'DAILY_EVENT_QUOTA', 'API_RATE_LIMIT_RPS', 'BACKLOG_LIMIT_EVENTS', 'REDIS_MEMORY_LIMIT_PERCENT',
  ],
  // Set per Deployment (api.* / worker.*), never in the chart's config.
  perDeploymentEnv: ['ROLE', 'PORT'],
  // Secrets only the api reads; the worker, the migrations and the CLI never get them.
  apiOnlySecretEnv: ['ADMIN_TOKEN'],
  // Keys the deployment adds beside the app's own (not read by the app).
  deploymentOnlySecretKeys: ['REDIS_PASSWORD'],
  liveness: '/health/live',
  readiness: '/health/ready',
  appCommand: ['node', 'dist/main.js'],
  migrateCommand: ['node', 'dist/database/migrate.js'],
  // Operator CLI: keys and sources without the HTTP API (bootstrap, lost admin keys).
  cliCommand: ['node', 'dist/cli.js'],
  queueName: 'events',
  graceSeconds: { min: 30, max: 60 },
};

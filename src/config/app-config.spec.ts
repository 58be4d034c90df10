import { loadConfig } from './app-config';
import { ConfigValidationError, VARIABLES, validateEnvironment } from './environment';

/** Every variable Sluice reads set to "absent", so the host environment cannot leak in. */
const CLEAN: Record<string, undefined> = Object.fromEntries(
  VARIABLES.map((v) => [v.name, undefined]),
);

const load = (overrides: Record<string, string | undefined> = {}) =>
  loadConfig({ ...CLEAN, ...overrides });

/** The ConfigValidationError thrown for these overrides (fails the test when none is thrown). */
function configError(overrides: Record<string, string | undefined>): ConfigValidationError {
  try {
    load(overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error(`expected ${JSON.stringify(overrides)} to be rejected`);
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('gives a working local configuration with nothing set', () => {
      const config = load();
      expect(config.role).toBe('all');
      expect(config.nodeEnv).toBe('development');
      expect(config.http).toEqual({ host: '0.0.0.0', port: 3000 });
      expect(config.database).toEqual({
        url: 'postgres://postgres@127.0.0.1:5432/sluice',
        poolSize: 10,
        ssl: false,
      });
      expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'sluice', durability: 'fsync', waitReplicas: 1, waitTimeoutMs: 500 });
      expect(config.log).toEqual({ level: 'info', format: 'pretty' });
      expect(config.limits).toEqual({ maxEventBytes: 32768, maxRequestBytes: 512000, maxBatchEvents: 2500, maxBytesInFlight: 8_388_608, bytesInFlightWaitMs: 5000, maxContextFanoutBytes: 2048000, maxEventDepth: 64 });
      expect(config.retentionDays).toBe(730);
      expect(config.keyLookups).toEqual({ perIp: 20, perSecond: 500 });
      expect(config.metricsPort).toBeNull();
      expect(config.batching).toEqual({
        flushEvents: 500,
        flushMs: 5,
        maxInFlight: 2,
        jobMaxEvents: 500,
        jobFormat: 'rows',
        enqueueTimeoutMs: 1000,
      });
      expect(config.worker).toEqual({
        concurrency: 4,
        attempts: 8,
        backoffMs: 500,
        lockMs: 10000,
        stalledIntervalMs: 2000,
        maxStalls: 3,
        outageMaxBackoffMs: 5000,
        partitionDaysAhead: 7,
      });
      expect(config.shutdownTimeoutMs).toBe(25000);
      expect(config.keyCacheTtlMs).toBe(5000);
    });

    it('treats empty strings as unset', () => {
      const config = load({ PORT: '', DATABASE_POOL_SIZE: '', ROLE: '', LOG_LEVEL: '' });
      expect(config.http.port).toBe(3000);
      expect(config.database.poolSize).toBe(10);
      expect(config.role).toBe('all');
      expect(config.log.level).toBe('info');
    });

    it.each([
      ['api', 3000],
      ['all', 3000],
      ['worker', 3001],
    ])('defaults PORT for ROLE=%s to %d', (role, port) => {
      expect(load({ ROLE: role }).http.port).toBe(port);
    });

    it('lets an explicit PORT win over the role default', () => {
      expect(load({ ROLE: 'worker', PORT: '8080' }).http.port).toBe(8080);
      expect(load({ ROLE: 'api', PORT: '9000' }).http.port).toBe(9000);
    });

    it('switches logs to JSON in production unless LOG_FORMAT says otherwise', () => {
      expect(load({ NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(16) }).log.format).toBe('json');
      expect(load({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' }).log.format).toBe('pretty');
      expect(load({ LOG_FORMAT: 'json' }).log.format).toBe('json');
    });
  });

  describe('parsing', () => {
    it('parses integers and booleans', () => {
      const config = load({
        DATABASE_POOL_SIZE: '25',
        JOB_ATTEMPTS: '3',
        BATCH_FLUSH_MS: '0',
        DATABASE_SSL: 'true',
      });
      expect(config.database.poolSize).toBe(25);
      expect(config.worker.attempts).toBe(3);
      expect(config.batching.flushMs).toBe(0);
      expect(config.database.ssl).toEqual({ verify: true, ca: undefined });
    });

    it.each([
      ['true', { verify: true, ca: undefined }],
      ['1', { verify: true, ca: undefined }],
      ['YES', { verify: true, ca: undefined }],
      ['on', { verify: true, ca: undefined }],
      ['verify-full', { verify: true, ca: undefined }],
      ['no-verify', { verify: false, ca: undefined }],
      ['false', false],
      ['0', false],
      ['no', false],
      ['Off', false],
    ])('reads DATABASE_SSL=%s as %j (true verifies the certificate)', (value, expected) => {
      expect(load({ DATABASE_SSL: value }).database.ssl).toEqual(expected);
    });

    it('reads the CA of DATABASE_SSL_CA, and names the variable when the file is missing', () => {
      expect(load({ DATABASE_SSL: 'true', DATABASE_SSL_CA: __filename }).database.ssl).toMatchObject({ verify: true, ca: expect.stringContaining('DATABASE_SSL_CA') });
      expect(() => load({ DATABASE_SSL: 'true', DATABASE_SSL_CA: '/nonexistent/ca.pem' })).toThrow(/DATABASE_SSL_CA="\/nonexistent\/ca.pem": cannot read/);
    });

    it('derives servesApi and runsWorker from ROLE', () => {
      expect([load({ ROLE: 'api' }).servesApi, load({ ROLE: 'api' }).runsWorker]).toEqual([
        true,
        false,
      ]);
      expect([load({ ROLE: 'worker' }).servesApi, load({ ROLE: 'worker' }).runsWorker]).toEqual([
        false,
        true,
      ]);
      expect([load({ ROLE: 'all' }).servesApi, load({ ROLE: 'all' }).runsWorker]).toEqual([
        true,
        true,
      ]);
    });

    it('accepts postgresql:// and rediss:// URLs', () => {
      const config = load({
        DATABASE_URL: 'postgresql://u:p@db:5432/x',
        REDIS_URL: 'rediss://:p@cache:6380',
      });
      expect(config.database.url).toBe('postgresql://u:p@db:5432/x');
      expect(config.redis.url).toBe('rediss://:p@cache:6380');
    });

    it('ignores variables it does not know', () => {
      expect(() => load({ SOMETHING_ELSE: 'whatever', HOME: '/nowhere' })).not.toThrow();
    });
  });

  describe('invalid values', () => {
    it.each([
      ['ROLE', 'scheduler'],
      ['NODE_ENV', 'staging'],
      ['PORT', 'http'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['DATABASE_POOL_SIZE', '0'],
      ['DATABASE_POOL_SIZE', 'ten'],
      ['DATABASE_SSL', 'maybe'],
      ['QUEUE_PREFIX', 'has space'],
      ['QUEUE_PREFIX', 'x'.repeat(65)],
      ['LOG_LEVEL', 'loud'],
      ['LOG_FORMAT', 'xml'],
      ['MAX_EVENT_BYTES', '100'],
      ['MAX_REQUEST_BYTES', '999999999999'],
      ['BATCH_FLUSH_EVENTS', '0'],
      ['BATCH_FLUSH_MS', '1001'],
      ['JOB_MAX_EVENTS', '10001'],
      ['ENQUEUE_TIMEOUT_MS', '10'],
      ['WORKER_CONCURRENCY', '65'],
      ['JOB_ATTEMPTS', '0'],
      ['JOB_BACKOFF_MS', '5'],
      ['JOB_LOCK_MS', '999'],
      ['JOB_STALLED_INTERVAL_MS', '100'],
      ['PARTITION_DAYS_AHEAD', '367'],
      ['SHUTDOWN_TIMEOUT_MS', '1'],
      ['KEY_CACHE_TTL_MS', '-5'],
    ])('rejects %s=%s with a message naming it and showing the value', (name, value) => {
      const err = configError({ [name]: value });
      expect(err.message).toContain(`${name}=${JSON.stringify(value)}`);
    });

    it('names every bad variable in one message', () => {
      const err = configError({ ROLE: 'nope', PORT: 'abc', LOG_LEVEL: 'loud' });
      expect(err.message).toMatch(/^Invalid configuration:/);
      for (const name of ['ROLE', 'PORT', 'LOG_LEVEL']) expect(err.message).toContain(`${name}=`);
      expect(err.message).not.toContain('DATABASE_URL');
    });

    it.each([
      ['DATABASE_URL', 'mysql://admin:hunter2-db-secret@db.internal/app'],
      ['REDIS_URL', 'http://:hunter2-redis-secret@cache.internal:6379'],
      ['ADMIN_TOKEN', 'hunter2-short'],
    ])('never echoes the secret %s', (name, value) => {
      const err = configError({ [name]: value });
      expect(err.message).toContain(`${name}=(hidden)`);
      expect(err.message).not.toContain(value);
      expect(err.message).not.toContain('hunter2');
    });

    it('refuses settings that conflict with each other, naming both', () => {
      expect(() => loadConfig({ METRICS_PORT: '3000' })).toThrow(/METRICS_PORT=3000: must differ from PORT/);
      expect(() => loadConfig({ ROLE: 'worker', METRICS_PORT: '3001' })).toThrow(/METRICS_PORT=3001/);
      expect(loadConfig({ ROLE: 'worker', METRICS_PORT: '3000' }).metricsPort).toBe(3000);
      expect(() => loadConfig({ REDIS_DURABILITY: 'replicas', REDIS_WAIT_TIMEOUT_MS: '1000', ENQUEUE_TIMEOUT_MS: '1000' })).toThrow(/REDIS_WAIT_TIMEOUT_MS=1000: must be below ENQUEUE_TIMEOUT_MS=1000/);
      expect(loadConfig({ REDIS_DURABILITY: 'replicas', REDIS_WAIT_TIMEOUT_MS: '500', ENQUEUE_TIMEOUT_MS: '1000' }).redis.waitTimeoutMs).toBe(500);
      expect(() => loadConfig({ QUERY_STATEMENT_TIMEOUT_MS: '30000' })).toThrow(/QUERY_STATEMENT_TIMEOUT_MS=30000: must be below SHUTDOWN_TIMEOUT_MS=25000/);
    });

    it('takes the boolean spellings for ROLLUPS', () => {
      expect(loadConfig({ ROLLUPS: 'true' }).query.rollups).toBe(true);
      expect(loadConfig({ ROLLUPS: 'OFF' }).query.rollups).toBe(false);
      expect(loadConfig({ ROLLUPS: '0' }).query.rollups).toBe(false);
      expect(() => loadConfig({ ROLLUPS: 'sometimes' })).toThrow(/ROLLUPS="sometimes": must be on or off/);
    });

    it('explains what a URL must look like', () => {
      expect(configError({ DATABASE_URL: 'localhost:5432' }).message).toContain(
        'must be a postgres:// URL',
      );
      expect(configError({ REDIS_URL: 'localhost:6379' }).message).toContain(
        'must be a redis:// or rediss:// URL',
      );
      expect(configError({ ADMIN_TOKEN: 'short' }).message).toContain(
        'must be at least 16 characters',
      );
    });
  });

  describe('ADMIN_TOKEN', () => {
    it('is used as given', () => {
      const config = load({ ADMIN_TOKEN: 'a-very-long-admin-token', NODE_ENV: 'production' });
      expect(config.admin).toEqual({ token: 'a-very-long-admin-token', generated: false });
      expect(load({ ADMIN_TOKEN: 'a-very-long-admin-token' }).admin.generated).toBe(false);
    });

    it.each(['development', 'test'])(
      'is generated when unset in %s, fresh for every load',
      (nodeEnv) => {
        const a = load({ NODE_ENV: nodeEnv }).admin;
        const b = load({ NODE_ENV: nodeEnv }).admin;
        expect(a.generated).toBe(true);
        expect(a.token).toMatch(/^dev_[A-Za-z0-9_-]{16,}$/);
        expect(b.token).not.toBe(a.token);
      },
    );

    it('is generated when set to an empty string outside production', () => {
      expect(load({ ADMIN_TOKEN: '' }).admin.generated).toBe(true);
    });

    it('is null (admin API closed) when unset in production', () => {
      expect(load({ NODE_ENV: 'production' }).admin).toEqual({ token: null, generated: false });
      expect(load({ NODE_ENV: 'production', ADMIN_TOKEN: '' }).admin).toEqual({
        token: null,
        generated: false,
      });
    });
  });
});

describe('validateEnvironment', () => {
  it('documents every validated variable exactly once', () => {
    const names = VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    const env = validateEnvironment({});
    for (const key of Object.keys(env)) expect(names).toContain(key);
  });

  it('marks the connection URLs and the admin token as secret', () => {
    const secrets = VARIABLES.filter((v) => v.secret)
      .map((v) => v.name)
      .sort();
    expect(secrets).toEqual(['ADMIN_TOKEN', 'DATABASE_READ_URL', 'DATABASE_URL', 'REDIS_URL']);
  });

  it('reads only the raw values it is given (not process.env)', () => {
    expect(validateEnvironment({ ROLE: 'worker', JOB_ATTEMPTS: '2' })).toMatchObject({
      ROLE: 'worker',
      JOB_ATTEMPTS: 2,
    });
  });
});

describe('tracing configuration (OTEL_*)', () => {
  const CLEAN_ENV: Record<string, undefined> = Object.fromEntries(VARIABLES.map((v) => [v.name, undefined]));
  const cfg = (o: Record<string, string>) => loadConfig({ ...CLEAN_ENV, ...o });

  it('is off unless OTEL_SDK_DISABLED=false', () => {
    expect(cfg({}).tracing).toBeNull();
    expect(cfg({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing).toBeNull();
  });

  it('takes the specification defaults and the role for the service name', () => {
    expect(cfg({ OTEL_SDK_DISABLED: 'false', ROLE: 'worker' }).tracing).toEqual({
      serviceName: 'sluice-worker',
      tracesUrl: 'http://localhost:4318/v1/traces',
      sampler: 'parentbased_always_on',
      ratio: 1,
      resourceAttributes: {},
    });
  });

  it('reads endpoint, traces endpoint, sampler, ratio and resource attributes', () => {
    const t = cfg({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01', OTEL_SERVICE_NAME: 'ingest-eu', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod, team=data%20eng' }).tracing!;
    expect(t).toEqual({ serviceName: 'ingest-eu', tracesUrl: 'http://collector:4318/v1/traces', sampler: 'parentbased_traceidratio', ratio: 0.01, resourceAttributes: { 'deployment.environment.name': 'prod', team: 'data eng' } });
    expect(cfg({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/x/traces' }).tracing!.tracesUrl).toBe('https://b/x/traces');
  });

  it.each([
    ['OTEL_SDK_DISABLED', 'maybe'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_TRACES_SAMPLER_ARG', '-0.1'],
    ['OTEL_TRACES_SAMPLER_ARG', 'half'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'grpc://c:4317'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'no-equals-sign'],
    ['OTEL_SERVICE_NAME', 'has space'],
  ])('refuses %s=%p, naming it', (name, value) => {
    expect(() => cfg({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });

  it('refuses bad percent-encoding in OTEL_RESOURCE_ATTRIBUTES', () => {
    expect(() => cfg({ OTEL_SDK_DISABLED: 'false', OTEL_RESOURCE_ATTRIBUTES: 'a=%zz' })).toThrow(/OTEL_RESOURCE_ATTRIBUTES/);
  });
});

import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import { INestApplication, Logger, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config';
import { errorBody, HttpExceptionFilter } from '../common/http-exception.filter';
import { registerBodyDecoding } from '../ingest/body-decoding';
import { IngestService } from '../ingest/ingest.service';
import { acceptRequestId, requestContext } from '../logging/request-context';
import { createLogger } from '../logging/logger';
import { MetricsService } from '../metrics/metrics.service';
import { AppModule } from './app.module';
import type { Queue } from 'bull';
import { getQueueToken } from '@nestjs/bull';
import { QueueName } from '../queue/queue.constants';

import { INGEST_ROUTE } from '../ingest/body-decoding';

const draining = new WeakSet<FastifyInstance>();

const INGEST_SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
};

/** Builds the application for config.role: used by main.ts and by the e2e tests. */
export async function createApp(config: AppConfig, logger: LoggerService = createLogger(config)): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.limits.maxRequestBytes,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => acceptRequestId(req.headers['x-request-id']) ?? randomUUID(),
    // Fastify's own logger stays off: winston (via Nest) is the one log stream.
    logger: false,
    // X-Forwarded-For is honoured only from configured proxies (TRUST_PROXY).
    trustProxy: config.trustProxy,
    // Fastify's own closing 503 keeps the connection alive, so a client that retries at once
    // on it could hold the server open forever; the onRequest hook below answers instead.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRole(config), adapter, { logger, bufferLogs: false });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  configureHttp(app, fastify, config);
  if (config.servesApi) setUpSwagger(app);
  await app.init();
  await fastify.ready();
  return app;
}

function configureHttp(app: NestFastifyApplication, fastify: FastifyInstance, config: AppConfig): void {
  const metrics = app.get(MetricsService);

  // Every log line of a request (and the job it produces) carries its request id. While
  // draining, new requests get 503 and their connection is closed, so clients move elsewhere.
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('X-Request-Id', req.id);
    if (draining.has(fastify)) {
      void reply
        .code(503)
        .header('Connection', 'close')
        .header('Retry-After', '1')
        .send(errorBody(503, 'This instance is shutting down; retry (another instance will answer).', req.id));
      return;
    }
    // Ingestion answers are small JSON documents: a fixed set of security headers does, and
    // saves running helmet on the hottest routes (they opt out with @RouteConfig).
    if ((req.routeOptions.config as { helmet?: unknown } | undefined)?.helmet) void reply.headers(INGEST_SECURITY_HEADERS);
    requestContext.run({ requestId: req.id }, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  // Security headers everywhere. Swagger UI needs inline scripts and styles; plain-HTTP local
  // installs must not be told to upgrade every request.
  void fastify.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        upgradeInsecureRequests: null,
      },
    },
  });

  registerBodyDecoding(fastify);
  // Nest maps Fastify's errors to plain HttpExceptions and drops their code; keep it for the
  // exception filter, which turns it into an actionable message and a reject reason.
  fastify.addHook('onError', (req, _reply, err, done) => {
    (req as { errorCode?: string }).errorCode = (err as { code?: string }).code;
    done();
  });

  // Browser SDKs post from any origin; only ingestion routes are open to them. (The two option
  // objects are built once: this runs on every request.)
  const openCors = {
    origin: true,
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-Write-Key', 'Content-Encoding', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    maxAge: 86400,
  };
  const closedCors = { origin: false };
  void fastify.register(fastifyCors, () => (req: { url?: string }, cb: (e: Error | null, o: object) => void) => {
    cb(null, INGEST_ROUTE.test(req.url ?? '') ? openCors : closedCors);
  });

  app.useGlobalFilters(new HttpExceptionFilter(metrics, config.limits.maxRequestBytes));
}

function setUpSwagger(app: NestFastifyApplication): void {
  const doc = new DocumentBuilder()
    .setTitle('Sluice')
    .setDescription(
      'Segment-compatible event ingestion.\n\n' +
        '**Keys.** Write keys (`sk_write_…`, one source, ingestion only) go as the HTTP Basic user name (empty password), ' +
        'the `X-Write-Key` header, or `writeKey` in the body. Read keys (`sk_read_…`, the query API, scoped to some or all ' +
        'sources) and admin keys (`sk_admin_…`, everything) go as `Authorization: Bearer <key>`. The bootstrap `ADMIN_TOKEN` ' +
        'can only create admin keys. No or unknown key: 401; a key not allowed on the route or source: 403.\n\n' +
        '**Limits.** Per source: requests/s, events/s (a batch counts its events) and events per UTC day; per key on ' +
        'admin and query routes: API_RATE_LIMIT_RPS. Over a limit: 429 with `Retry-After` and `X-RateLimit-Limit`, ' +
        '`X-RateLimit-Remaining`, `X-RateLimit-Reset` (seconds). Queue backlog over its limit or Redis down: 503 with `Retry-After`.',
    )
    .setVersion('1')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'Write key as the user name, empty password' }, 'writeKey')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Write-Key', description: 'Write key' }, 'writeKeyHeader')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An admin key (sk_admin_…) or read key (sk_read_…)' }, 'apiKey')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The bootstrap ADMIN_TOKEN: only creates admin keys' }, 'adminToken')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs-json' });
}

/**
 * Graceful drain on SIGTERM: stop accepting and finish requests in flight (api), flush events
 * waiting for their micro-batch, let the worker finish its active jobs, then close connections.
 */
export async function drainAndClose(app: INestApplication, config: AppConfig): Promise<void> {
  const log = new Logger('Shutdown');
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  draining.add(fastify);
  // Backstop: a connection still busy after half the drain budget is cut.
  const cut = setTimeout(() => fastify.server.closeAllConnections(), config.shutdownTimeoutMs / 2);
  await fastify.close();
  clearTimeout(cut);
  log.log('HTTP server closed; requests in flight answered');
  if (config.servesApi) {
    await app.get(IngestService).drain();
    log.log('pending micro-batches flushed');
  }
  // Waits for the jobs this process is running (worker), then stops using the queue.
  await app.get<Queue>(getQueueToken(QueueName.Events)).close();
  log.log('queue closed');
  await app.close();
}

/** Fails start-up with a clear error when Redis cannot be reached at all. */
export async function assertRedisReachable(app: INestApplication, timeoutMs = 5000): Promise<void> {
  const queue = app.get<Queue>(getQueueToken(QueueName.Events));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      queue.isReady(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('Redis did not answer'), { code: 'ETIMEDOUT', redis: true })), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

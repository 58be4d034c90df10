import { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bull';
import type { FastifyInstance } from 'fastify';
import { registerBodyDecoding } from '../common/body-decoding';
import { HttpExceptionFilter } from '../common/http-exception.filter';
import { AppConfig } from '../config';
import { registerBytesInFlightBound, registerIngestHttp } from '../ingest/ingest-http';
import { createLogger } from '../logging/logger';
import { MetricsService } from '../metrics/metrics.service';
import { QueueName } from '../queue/queue.constants';
import { RateLimitRepository } from '../ratelimit/rate-limit.repository';
import { registerRateLimitRefunds } from '../ratelimit/rate-limit-refunds';
import { AppModule } from './app.module';
import { registerConsole } from './http/console';
import { createFastifyAdapter } from './http/fastify-adapter';
import { registerRequestHooks } from './http/request-hooks';
import { setUpOpenApi } from './openapi';

/** Builds the application for config.role: used by main.ts and by the e2e tests. */
export async function createApp(config: AppConfig, logger: LoggerService = createLogger(config)): Promise<NestFastifyApplication> {
  // bodyParser off: Fastify's own JSON parser serves admin and query routes, and ingestion's
  // parsers (registerIngestHttp) take every other content type, where Nest would add a form parser.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRole(config), createFastifyAdapter(config), { logger, bufferLogs: false, bodyParser: false });
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const metrics = app.get(MetricsService);
  registerRequestHooks(fastify, metrics);
  // Before body decoding: a request waiting for room has nothing of its body read yet.
  if (config.servesApi) registerBytesInFlightBound(fastify, config.limits, metrics);
  registerBodyDecoding(fastify);
  if (config.servesApi) {
    registerIngestHttp(fastify, metrics);
    registerRateLimitRefunds(fastify, app.get(RateLimitRepository));
    await registerConsole(fastify);
  }
  app.useGlobalFilters(new HttpExceptionFilter(config.limits.maxRequestBytes, metrics));
  if (config.servesApi) setUpOpenApi(app);
  await app.init();
  await fastify.ready();
  return app;
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

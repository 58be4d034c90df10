import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { describeStartupError } from './common/startup-errors';
import { AppConfig, loadConfig } from './config';
import { createLogger } from './logging/logger';
import { startTracing } from './tracing/start-tracing';

async function main(): Promise<void> {
  let config: AppConfig | undefined;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(describeStartupError(err, {}));
    process.exit(1);
  }
  // Before the app (Nest, Fastify, pg, ioredis) is loaded, so the instrumentations see it load.
  const tracing = startTracing(config);
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded after startTracing on purpose */
  const { assertRedisReachable, createApp } = require('./app/create-app') as typeof import('./app/create-app');
  const { drainAndClose } = require('./app/drain') as typeof import('./app/drain');
  const { ProcessHealth } = require('./health/process-health') as typeof import('./health/process-health');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const logger = createLogger(config);
  const log = new Logger('Main');
  Logger.overrideLogger(logger);

  let app;
  try {
    app = await createApp(config, logger);
    await assertRedisReachable(app);
    await app.listen({ port: config.http.port, host: config.http.host });
  } catch (err) {
    console.error(describeStartupError(err, { database: config.database.url, redis: config.redis.url }));
    process.exit(1);
  }

  log.log(`Sluice ${config.role} listening on http://${config.http.host}:${config.http.port}` + (config.servesApi ? ' (API docs at /docs)' : ''));
  if (config.servesApi && config.admin.generated) {
    // Development convenience only: production requires ADMIN_TOKEN to be set.
    console.log(`\n  ADMIN_TOKEN for this run (set ADMIN_TOKEN to choose your own): ${config.admin.token}\n`);
  }

  let stopping = false;
  const stop = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal}: draining`);
    const force = setTimeout(() => {
      log.error(`drain took longer than ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    drainAndClose(app, config)
      // The spans of the last requests and jobs go out before the process ends.
      .then(() => tracing?.shutdown())
      .then(() => {
        log.log('drained; bye');
        process.exit(exitCode);
      })
      .catch((err) => {
        log.error(`error while draining: ${(err as Error).stack}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM received'));
  process.on('SIGINT', () => stop('SIGINT received'));
  // A part of the process that stopped for good (the queue consumer): exit non-zero so the
  // orchestrator restarts it, rather than leave a worker that looks healthy and does nothing.
  app.get(ProcessHealth).onFatal((component) => stop(`${component} failed`, 1));
}

void main();

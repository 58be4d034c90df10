import { INestApplication, Logger } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import type { FastifyInstance } from 'fastify';
import { AppConfig } from '../config';
import { IngestService } from '../ingest/ingest.service';
import { LiveService } from '../live/live.service';
import { QueueName } from '../queue/queue.constants';
import { startDraining } from './http/request-hooks';

/**
 * Graceful drain on SIGTERM: stop accepting and finish requests in flight (api), flush events
 * waiting for their micro-batch (live debugger streams are ended first), let the worker finish its active jobs, then close connections.
 */
export async function drainAndClose(app: INestApplication, config: AppConfig): Promise<void> {
  const log = new Logger('Shutdown');
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  startDraining(fastify);
  // Live debugger streams never end on their own: end them, or closing the server waits for them.
  if (config.servesApi) await app.get(LiveService).closeAll();
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

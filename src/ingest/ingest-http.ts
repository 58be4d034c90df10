import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { bodyErrorReason } from '../common/http-exception.filter';
import { MetricsService } from '../metrics/metrics.service';

/** Ingestion routes: everything under /v1/ except the admin API. */
export const INGEST_ROUTE = /^\/v1\/(?!admin\/)/;

/**
 * What ingestion needs of the HTTP layer beyond its routes: JSON sent as text/plain (browsers'
 * sendBeacon and analytics.js avoid a CORS preflight that way), CORS open to every origin on
 * ingestion routes only, and requests refused before the route ran counted as rejected events.
 */
export function registerIngestHttp(fastify: FastifyInstance, metrics: MetricsService): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, (req, body, done) => {
    void parseJson(req, body as string, done);
  });

  // The two option objects are built once: this runs on every request.
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

  fastify.addHook('onError', (req, _reply, err, done) => {
    if (INGEST_ROUTE.test(req.url)) {
      const e = err as { statusCode?: number; code?: string };
      const reason = bodyErrorReason(e.statusCode ?? 500, e.code);
      if (reason) metrics.eventsRejected.inc({ reason });
    }
    done();
  });
}

import type { FastifyInstance } from 'fastify';
import { errorBody } from '../../common/http-exception.filter';
import { securityHeadersFor } from '../../common/security-headers';
import { requestContext } from '../../logging/request-context';
import { MetricsService } from '../../metrics/metrics.service';

const draining = new WeakSet<FastifyInstance>();

function decodesAsUtf8(url: string): boolean {
  try {
    decodeURIComponent(url);
    return true;
  } catch {
    return false;
  }
}

/** From now on this instance answers new requests with 503 + Connection: close (graceful drain). */
export function startDraining(fastify: FastifyInstance): void {
  draining.add(fastify);
}

/**
 * What every request goes through before its route: the request id (echoed, and carried by every
 * log line through AsyncLocalStorage), the drain gate, security headers; and after it, the
 * duration histogram.
 */
export function registerRequestHooks(fastify: FastifyInstance, metrics: MetricsService): void {
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
    void reply.headers(securityHeadersFor(req.routeOptions.config, req.url));
    // A path or query string whose percent-escapes are not UTF-8 (`%ED%A0%80` encodes a lone
    // surrogate) cannot name anything: refuse it before any route reads a mangled parameter.
    if (req.url.includes('%') && !decodesAsUtf8(req.url)) {
      void reply.code(400).send(errorBody(400, 'The URL contains percent-escapes that are not valid UTF-8 (such as %ED%A0%80 or %ZZ); encode text as UTF-8.', req.id, { reason: 'invalid_url' }));
      return;
    }
    requestContext.run({ requestId: req.id }, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  // Nest maps Fastify's errors to plain HttpExceptions and drops their code; keep it for the
  // exception filter, which turns it into an actionable message and a reject reason.
  fastify.addHook('onError', (req, _reply, err, done) => {
    (req as { errorCode?: string }).errorCode = (err as { code?: string }).code;
    done();
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody } from '../../common/http-exception.filter';
import { securityHeadersFor } from '../../common/security-headers';
import { requestContext } from '../../logging/request-context';
import { MetricsService, TraceExemplar } from '../../metrics/metrics.service';
import { sampledTraceIds } from '../../tracing/trace-context';

const draining = new WeakSet<FastifyInstance>();

function decodesAsUtf8(url: string): boolean {
  try {
    decodeURIComponent(url);
    return true;
  } catch {
    return false;
  }
}

const INVALID_URL_MESSAGE = 'The URL contains percent-escapes that are not valid UTF-8 (such as %ED%A0%80 or %ZZ); encode text as UTF-8.';

/**
 * Fastify's router refuses some URLs before any hook runs (a path parameter whose escapes are
 * not UTF-8: FST_ERR_BAD_URL; one longer than maxParamLength: FST_ERR_MAX_PARAM_LENGTH) and
 * would answer in a shape of its own, without request id or security headers: Fastify's
 * `frameworkErrors` option (createFastifyAdapter) hands them here, for the one error shape.
 */
export function answerFrameworkError(error: { code?: string }, req: FastifyRequest, reply: FastifyReply): void {
  const [status, message, reason] =
    error.code === 'FST_ERR_BAD_URL'
      ? [400, INVALID_URL_MESSAGE, 'invalid_url']
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? [414, 'A path segment of the URL is longer than any id; check the URL.', 'url_too_long']
        : [500, 'Internal server error; the request id identifies it in the logs.', undefined];
  void reply
    .code(status)
    .header('X-Request-Id', req.id)
    .headers(securityHeadersFor(undefined, req.url))
    .send(errorBody(status, message, req.id, reason ? { reason } : {}));
}

/**
 * A request Node's HTTP parser refuses (headers and URL over the 16 KB limit, not HTTP at all,
 * too slow) never reaches Fastify's hooks: Fastify's own answer has another shape and no
 * `Connection: close`, although it closes the connection, so a keep-alive client sends its next
 * request into a closed socket. This one is the one error shape, and says the connection ends.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The URL and headers exceed the size the server reads (16 KB); send long values in the body.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request was not received in time.']
        : [400, 'The request is not valid HTTP/1.1.'];
  const body = JSON.stringify(errorBody(status, message, undefined, { reason: 'invalid_request' }));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

const exemplars = new WeakMap<FastifyRequest, TraceExemplar>();

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
      void reply.code(400).send(errorBody(400, INVALID_URL_MESSAGE, req.id, { reason: 'invalid_url' }));
      return;
    }
    // The request's span is active here (not in onResponse): keep its ids for the exemplar.
    const traced = sampledTraceIds();
    if (traced) exemplars.set(req, traced);
    requestContext.run({ requestId: req.id }, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    metrics.observeHttp(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
      exemplars.get(req),
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

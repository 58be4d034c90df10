import fastifyCors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ByteBudget } from '../common/byte-budget';
import { bodyErrorReason, errorBody } from '../common/http-exception.filter';
import type { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { SDK_SETTINGS_ROUTE } from '../sdk-settings/sdk-settings';

/** The ingestion routes (IngestController's paths), and nothing else: CORS is open on these only. */
export const INGEST_ROUTE = /^\/v1\/(?:track|identify|page|screen|group|alias|batch|import|[tipsgab])(?:\?|$)/;

/** `type/subtype`, optionally followed by parameters: what Fastify accepts as a Content-Type. */
const MEDIA_TYPE = /^\s*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(?:;|$)/;

class UnsupportedMediaType extends Error {
  readonly statusCode = 415;
  readonly code = 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
}

/**
 * What ingestion needs of the HTTP layer beyond its routes: the body is JSON whatever its
 * Content-Type says, or if it says nothing, as Segment's and RudderStack's servers read it
 * (analytics.js posts text/plain to skip a CORS preflight; rudder-sdk-node posts gzip JSON as
 * application/x-www-form-urlencoded); CORS open to every origin on ingestion routes and on the
 * settings the browser SDKs load first (src/sdk-settings), and nowhere else; and
 * requests refused before the route ran counted as rejected events.
 */
export function registerIngestHttp(fastify: FastifyInstance, metrics: MetricsService): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const anyAsJson = (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    if (!INGEST_ROUTE.test(req.url)) {
      done(new UnsupportedMediaType(`Unsupported Content-Type "${req.headers['content-type'] ?? ''}"; send application/json.`));
      return;
    }
    void parseJson(req, body as string, done);
  };
  fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, anyAsJson);
  fastify.addContentTypeParser('*', { parseAs: 'string' }, anyAsJson);
  // Fastify answers 415 to a Content-Type that is not a media type at all ("", "json", "foo")
  // before any parser runs; on ingestion routes it says nothing about the body, so it counts
  // as absent and the body is read as JSON like any other.
  fastify.addHook('onRequest', (req, _reply, done) => {
    const type = req.headers['content-type'];
    if (type !== undefined && !MEDIA_TYPE.test(type) && INGEST_ROUTE.test(req.url)) delete req.headers['content-type'];
    done();
  });

  // The two option objects are built once: this runs on every request.
  const openCors = {
    origin: true,
    methods: ['POST', 'OPTIONS'],
    // No allowedHeaders: the preflight's own Access-Control-Request-Headers are allowed back.
    // SDKs add headers of their own (RudderStack's browser SDK: AnonymousId,
    // RSA-Request-Attempt, RSA-Since-Last-Attempt...), and a fixed list refused them all; no
    // header grants anything here (no cookies: credentials stay off).
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    maxAge: 86400,
  };
  // RudderStack's SDK sends its write key as Basic auth when it fetches /sourceConfig.
  const settingsCors = { origin: true, methods: ['GET', 'OPTIONS'], allowedHeaders: ['Content-Type', 'Authorization'], maxAge: 86400 };
  const closedCors = { origin: false };
  void fastify.register(fastifyCors, () => (req: { url?: string }, cb: (e: Error | null, o: object) => void) => {
    const url = req.url ?? '';
    cb(null, INGEST_ROUTE.test(url) ? openCors : SDK_SETTINGS_ROUTE.test(url) ? settingsCors : closedCors);
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

/** Compressed JSON inflates about this much; a compressed body is counted at this many times its length. */
const COMPRESSION_ALLOWANCE = 10;

/**
 * What a request's body may take once read, before it is: its Content-Length when plain;
 * compressed, ten times that; of unknown length (chunked), the largest body allowed.
 */
export function bodyWeight(headers: FastifyRequest['headers'], maxRequestBytes: number): number {
  const length = Number(headers['content-length']);
  if (!Number.isFinite(length) || length < 0 || headers['content-length'] === undefined) return maxRequestBytes;
  const encoding = headers['content-encoding'];
  const plain = encoding === undefined || encoding === '' || encoding === 'identity';
  return Math.min(maxRequestBytes, plain ? length : length * COMPRESSION_ALLOWANCE);
}

/**
 * HTTP backpressure: the bodies of the ingestion requests in flight hold at most
 * MAX_BYTES_IN_FLIGHT bytes together (ByteBudget). A request reserves its weight before Fastify
 * reads its body and gives it back when its response is done (sent, failed or aborted); one that
 * does not fit waits with its body unread in the socket, so the client is slowed by TCP rather
 * than the api's heap growing with the load, and after BYTES_IN_FLIGHT_WAIT_MS it is answered 503
 * server_busy with Retry-After. Registered before body decoding, so nothing is read or inflated
 * while it waits.
 */
export function registerBytesInFlightBound(fastify: FastifyInstance, limits: AppConfig['limits'], metrics: MetricsService): void {
  if (limits.maxBytesInFlight === 0) return;
  const budget = new ByteBudget(limits.maxBytesInFlight);
  fastify.addHook('preParsing', async (req, reply, payload) => {
    if (!INGEST_ROUTE.test(req.url)) return payload;
    // The response may end (client gone) while the request still waits for room.
    const held: { release?: (() => void) | null; done: boolean } = { done: false };
    reply.raw.once('close', () => {
      held.done = true;
      held.release?.();
      metrics.httpBytesInFlight.set(budget.inUse);
    });
    const weight = bodyWeight(req.headers, limits.maxRequestBytes);
    const waits = budget.queued > 0 || (budget.inUse > 0 && budget.inUse + weight > budget.limit);
    const release = await budget.reserve(weight, limits.bytesInFlightWaitMs);
    held.release = release;
    if (release && held.done) release();
    metrics.httpBytesInFlight.set(budget.inUse);
    if (waits) metrics.httpBackpressureWaits.inc({ outcome: release ? 'admitted' : 'refused' });
    if (!release && !held.done) {
      void reply
        .code(503)
        .header('Retry-After', '1')
        .send(
          errorBody(503, `This api process is busy: request bodies already in flight fill its ${limits.maxBytesInFlight}-byte budget (MAX_BYTES_IN_FLIGHT); retry after the Retry-After delay.`, req.id, {
            reason: 'server_busy',
          }),
        );
    }
    return payload;
  });
}

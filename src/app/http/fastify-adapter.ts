import { FastifyAdapter } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../../config';
import { acceptRequestId } from '../../logging/request-context';
import { answerClientError, answerFrameworkError } from './request-hooks';

/** The Fastify instance under Nest: body limit, request ids, trusted proxies, closing behaviour. */
export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.limits.maxRequestBytes,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => acceptRequestId(req.headers['x-request-id']) ?? randomUUID(),
    // Fastify's own logger stays off: winston (via Nest) is the one log stream.
    logger: false,
    // X-Forwarded-For is honoured only from configured proxies (TRUST_PROXY).
    trustProxy: config.trustProxy,
    // Fastify's own closing 503 keeps the connection alive, so a client that retries at once
    // on it could hold the server open forever; the onRequest hook answers instead.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Requests refused before any hook (by the router, by Node's HTTP parser): the one error
    // shape all the same.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // RudderStack's JavaScript SDK asks for `/sourceConfig/?…` (src/sdk-settings); Nest cannot
    // declare a route with a trailing slash beside the one without, so this one URL loses it.
    rewriteUrl: (req: { url?: string }) => {
      const url = req.url ?? '/';
      return url.startsWith('/sourceConfig/') && (url.length === 14 || url.charCodeAt(14) === 63) ? '/sourceConfig' + url.slice(14) : url;
    },
  });
}

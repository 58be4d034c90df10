import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { MetricsService } from '../metrics/metrics.service';
import { RetryLaterException } from './errors';

export interface ErrorBody {
  success: false;
  statusCode: number;
  error: string;
  message: string;
  requestId?: string;
  [key: string]: unknown;
}

const codeOf = (e: unknown): unknown => (e as { code?: unknown; driverError?: { code?: unknown } })?.driverError?.code ?? (e as { code?: unknown })?.code;

/** A PostgreSQL data exception (SQLSTATE class 22), from pg or wrapped by TypeORM. */
function isDataException(e: unknown): boolean {
  const code = codeOf(e);
  const fromDb = (e as { name?: string })?.name === 'QueryFailedError' || typeof (e as { severity?: unknown })?.severity === 'string';
  return fromDb && typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** Builds the one JSON error shape every route answers with. */
export function errorBody(status: number, message: string, requestId?: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { success: false, statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, ...extra, requestId };
}

/** Messages for errors Fastify raises before a route runs, in words a client can act on. */
function fastifyMessage(err: { code?: string; message: string }, maxRequestBytes: number): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `The request body exceeds ${maxRequestBytes} bytes (after decompression); split it into smaller batches.`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported Content-Type; send application/json (or text/plain containing JSON).';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The body is empty; send a JSON object.';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      // Fastify counts the body as UTF-8 text: bytes that are not UTF-8 change its length.
      return 'The body does not match its Content-Length: send the exact byte length, and the body as UTF-8 text (invalid UTF-8 bytes also make it differ).';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      // (Fastify's own message names application/json, whatever the request's Content-Type was.)
      return 'The body is not valid JSON (a "__proto__" key, or a "constructor" key holding "prototype", is refused too); send a JSON object.';
    default:
      return err.message;
  }
}

/** The reason code of a request refused before any route ran (body too large, bad JSON or encoding). */
export function bodyErrorReason(status: number, code: string | undefined): string | undefined {
  if (status === 413) return 'request_too_large';
  if (code === 'SLUICE_BAD_CONTENT_ENCODING') return 'bad_encoding';
  if (code?.startsWith('FST_ERR_CTP')) return 'invalid_body';
  return undefined;
}

/**
 * Knows no feature: features map their own errors to HttpExceptions (RetryLaterException for
 * "try again later"). Every exception, including Fastify's own (body too large, bad JSON or gzip, which Nest routes
 * here too), becomes a JSON body a person can act on; unexpected ones are logged with stacks.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(
    private readonly maxRequestBytes = 0,
    private readonly metrics?: MetricsService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'Internal server error; the request id identifies it in the logs.';
    let extra: Record<string, unknown> = {};
    const fastifyCode = (request as { errorCode?: string }).errorCode;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const res = exception.getResponse();
      if (typeof res === 'string') message = res;
      else {
        const { message: m, statusCode: _s, error: _e, ...rest } = res as Record<string, unknown>;
        message = Array.isArray(m) ? m.join('; ') : String(m ?? exception.message);
        extra = rest;
      }
      if (exception instanceof RetryLaterException) reply.header('Retry-After', String(exception.retryAfterSeconds));
    } else if (isDataException(exception)) {
      // Validation should have stopped this value at the door; answer what it is (the client's
      // data), but log and count it as the bug it is so that it gets fixed rather than hidden.
      status = HttpStatus.BAD_REQUEST;
      message = 'A value in the request cannot be stored (the database refused it as invalid data); check text for NUL characters or invalid Unicode, and numbers and dates for their range.';
      extra = { reason: 'invalid_data' };
      const route = request.routeOptions?.url ?? 'unmatched';
      this.metrics?.unhandledDataErrors.inc({ route });
      this.logger.error(`BUG: a database data error reached ${request.method} ${route} past validation (SQLSTATE ${codeOf(exception)}): ${(exception as Error).message}`);
    } else {
      const e = exception as { statusCode?: number; message: string };
      if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        status = e.statusCode;
        message = e.message;
      }
    }
    if (fastifyCode && status < 500) {
      message = fastifyMessage({ code: fastifyCode, message }, this.maxRequestBytes);
      const reason = bodyErrorReason(status, fastifyCode);
      if (reason) extra = { ...extra, reason };
    }
    if (status >= 500 && !(exception instanceof HttpException)) {
      this.logger.error(`${request.method} ${request.routeOptions?.url ?? request.url}: ${(exception as Error)?.stack ?? exception}`);
    }
    void reply.status(status).send(errorBody(status, message, request.id, extra));
  }
}

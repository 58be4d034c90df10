import { LoggerService } from '@nestjs/common';
import { WinstonModule, utilities as nestWinston } from 'nest-winston';
import * as winston from 'winston';
import { AppConfig } from '../config';
import { activeTraceIds } from '../tracing/trace-context';
import { currentRequestId } from './request-context';

// Secrets must never reach a log line, whatever a caller passes in its metadata.
const SECRET_KEYS = /^(authorization|x-write-key|writekey|write_key|password|token|admin_token|secret)$/i;
const URL_CREDENTIALS = /(\w+:\/\/)([^:@/\s]*):([^@/\s]+)@/g;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(URL_CREDENTIALS, '$1$2:***@');
  if (!value || typeof value !== 'object') return value;
  if (depth > 4) return '[truncated]'; // deeper than we inspect: never pass it through unread
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** Adds the role, request id and (inside a span) trace_id/span_id to a line, and hides secrets. */
export const contextFormat = (role: string) =>
  winston.format((info) => {
    info.role = role;
    const requestId = currentRequestId();
    if (requestId && !info.requestId) info.requestId = requestId;
    // With tracing on, a line written inside a span names it: the line leads to its trace.
    const ids = activeTraceIds();
    if (ids) {
      info.trace_id = ids.trace_id;
      info.span_id = ids.span_id;
    }
    for (const key of Object.keys(info)) {
      if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
      else if (key === 'message' || key === 'stack') info[key] = redact(info[key]);
    }
    return info;
  })();

export function createLogger(config: AppConfig): LoggerService {
  const format =
    config.log.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), contextFormat(config.role), winston.format.errors({ stack: true }), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          contextFormat(config.role),
          nestWinston.format.nestLike(`sluice:${config.role}`, { colors: process.stdout.isTTY, prettyPrint: true }),
        );
  return WinstonModule.createLogger({
    level: config.log.level,
    transports: [new winston.transports.Console({ format })],
  });
}

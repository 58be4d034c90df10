import { ConfigValidationError } from '../config';

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN']);

/**
 * Turns the failures an operator can fix (bad config, a service that is not running) into one
 * line that says what to do; anything else keeps its stack.
 */
export function describeStartupError(err: unknown, urls: { database?: string; redis?: string }): string {
  if (err instanceof ConfigValidationError) return err.message;
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e?.code ?? e?.errors?.[0]?.code;
  const message = String(e?.message ?? err);
  const hostOf = (url?: string) => {
    try {
      return url ? new URL(url).host : undefined;
    } catch {
      return undefined;
    }
  };
  const redisHost = hostOf(urls.redis);
  if (urls.redis && redisHost && message.includes(redisHost) && !(urls.database && message.includes(hostOf(urls.database) ?? '\u0000'))) {
    return `Cannot reach Redis at ${redactUrl(urls.redis)} (${code ?? message}). Start it (e.g. \`docker compose up -d postgres redis\`) or set REDIS_URL.`;
  }
  const looksLikePg = /postgres|database|pg_|password authentication|role .* does not exist|5432/i.test(message) || e?.code?.startsWith?.('28') || e?.code === '3D000';
  if (urls.database && (looksLikePg || (code && CONNECT_CODES.has(code) && !/6379|redis/i.test(message)))) {
    return `Cannot reach PostgreSQL at ${redactUrl(urls.database)} (${code ?? message}). Start it (e.g. \`docker compose up -d postgres redis\`) or set DATABASE_URL.`;
  }
  if (urls.redis && (/redis|6379/i.test(message) || (code && CONNECT_CODES.has(code)))) {
    return `Cannot reach Redis at ${redactUrl(urls.redis)} (${code ?? message}). Start it (e.g. \`docker compose up -d postgres redis\`) or set REDIS_URL.`;
  }
  return err instanceof Error && err.stack ? err.stack : message;
}

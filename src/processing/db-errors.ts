/**
 * What a PostgreSQL failure means for the events being written:
 * - `unavailable`: the database cannot be reached or will not take writes right now (connection
 *   refused or lost, failover, shutdown, out of connections or disk). Retrying later will work;
 *   it says nothing about the events, so it never uses up a job's attempts.
 * - `data`: PostgreSQL refused the data itself (SQLSTATE class 22 data exception, 23 integrity,
 *   54 program limit). Retrying cannot help: the offending event is isolated and dead-lettered.
 * - `transient`: anything else (deadlock, serialization failure, a statement timeout, an
 *   unexpected error): retried with backoff within JOB_ATTEMPTS.
 */
export type DbFailure = 'unavailable' | 'data' | 'transient';

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EHOSTDOWN',
]);

// Node's TLS failures (a rotated or wrong CA, an expired or mismatched certificate): like a
// refused connection, nothing about the events.
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

// SQLSTATEs of an unavailable server: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now (starting up, in recovery), 25006 read_only_sql_transaction (connected to a
// standby during a failover), 58030 io_error, 53xxx insufficient resources (disk full, out of
// memory, too many connections), 08xxx connection exceptions, 28xxx invalid authorization (a
// rotated password, a role not yet granted: the database refuses everyone, not these events).
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '25006', '58030']);

// Errors node-postgres and TypeORM raise without a code when the connection goes away.
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /connection ended unexpectedly/i,
  /timeout exceeded when trying to connect/i,
  /connection is not queryable/i,
  /not queryable/i,
  /terminating connection/i,
  /the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/i,
  /socket hang up/i,
  /read ECONNRESET/i,
  /driver not connected/i,
  /connection is not yet established/i,
  /DataSource is not initialized/i,
  /Connection lost/i,
  /no pg_hba\.conf entry/i,
  /The server does not support SSL connections/i,
];

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown }; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyDbError(err: unknown): DbFailure {
  const code = codeOf(err);
  if (code) {
    if (NETWORK_CODES.has(code) || TLS_CODE.test(code)) return 'unavailable';
    if (code.length === 5) {
      if (code.startsWith('08') || code.startsWith('28') || code.startsWith('53') || UNAVAILABLE_STATES.has(code)) return 'unavailable';
      if (code.startsWith('22') || code.startsWith('23') || code.startsWith('54')) return 'data';
      return 'transient';
    }
  }
  const message = String((err as { message?: unknown })?.message ?? err);
  if (UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return 'unavailable';
  // AggregateError (several addresses tried) carries the codes in `errors`.
  const inner = (err as { errors?: unknown[] })?.errors;
  if (Array.isArray(inner) && inner.length > 0 && inner.every((e) => classifyDbError(e) === 'unavailable')) return 'unavailable';
  return 'transient';
}

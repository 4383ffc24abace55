import { FaxError } from '../../errors.js';

/** Socket errors that mean "the server is not there (right now)". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

/**
 * SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) after which the same call may work
 * a moment later: class 08 connection exceptions, 57P01–57P03 (admin/crash shutdown, cannot connect now),
 * 53300 too_many_connections, and 40001/40P01 (serialization failure, deadlock), whose transaction PostgreSQL
 * has already rolled back.
 */
const RETRYABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/** pg reports a dead pool or socket with plain Errors; their messages are all we have. */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Cannot use a pool after calling end',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
];

/**
 * Like asStoreError for SQLite: an unreachable or restarting database becomes a retryable
 * `database_unavailable` (451 at the SMTP edge, 503 at the webhook); constraint violations and SQL mistakes
 * pass through unchanged, because retrying them would fail the same way.
 */
export function asPostgresStoreError(error: unknown): unknown {
  if (error instanceof FaxError) return error;
  if (!isUnavailable(error)) return error;
  const message = error instanceof Error && error.message ? error.message : 'connection failed';
  return new FaxError('database_unavailable', `database unavailable: ${message}`, {
    retryable: true,
    cause: error,
  });
}

function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = String((error as { code?: unknown }).code ?? '');
  if (NETWORK_CODES.has(code) || RETRYABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  // Node wraps a failed connect to several addresses (localhost → ::1 and 127.0.0.1) in an AggregateError.
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((text) => message.includes(text));
}

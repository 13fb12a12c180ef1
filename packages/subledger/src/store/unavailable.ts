/** The embedded cluster would not start: the database cannot be used until it does. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'database_unavailable';
}

/** A connection to PostgreSQL that failed on the network: refused, reset, timed out, host unknown. */
const NETWORK_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
]);

/** A server that cannot serve now: shutting down, crashed, starting, out of connections. */
const SERVER_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres's own errors for a connection lost or never made: they carry no code. */
const LOST_CONNECTION = /^(Connection terminated|timeout exceeded when trying to connect)/;

/**
 * Whether `error` says PostgreSQL cannot be reached or stopped answering, as opposed to a statement
 * it refused. (Errors wrapping one, such as drizzle's failed query, hold it as their `cause`.)
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string')
    return NETWORK_FAILURES.has(code) || SERVER_UNAVAILABLE.has(code) || code.startsWith('08');
  return typeof message === 'string' && LOST_CONNECTION.test(message);
}

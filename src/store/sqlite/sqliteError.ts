import { FaxError } from '../../errors.js';

/**
 * A locked, full or unreadable database is "unavailable" (451 at the SMTP edge, 503 at the webhook), like
 * asPostgresStoreError; constraint violations pass through unchanged, because retrying them fails the same way.
 */
export function asSqliteStoreError(error: unknown): unknown {
  if (error instanceof FaxError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_') && !code.startsWith('SQLITE_CONSTRAINT')) {
    return new FaxError('database_unavailable', `database unavailable: ${(error as Error).message}`, {
      retryable: true,
      cause: error,
    });
  }
  if ((error as Error)?.message?.includes('database connection is not open')) {
    return new FaxError('database_unavailable', 'database is closed', { retryable: true, cause: error });
  }
  return error;
}

import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Stable field names across the daemon, so one query finds every line about a job (`job`), and so on. */
export interface LogFields {
  component?: string;
  session?: string;
  job?: string;
  fax?: string;
  attempt?: number;
}

/**
 * Paths that may hold secrets. pino's `*.x` matches one level only (docs/dependencies.md, pino), so the real
 * paths are listed; secrets are also never put into log objects on purpose.
 */
export const REDACT_PATHS = [
  'apiKey',
  'api_key',
  'password',
  'pass',
  'password_hash',
  'authorization',
  'signature',
  'url_secret',
  'config.telnyx.api_key',
  'config.http.url_secret',
  'telnyx.api_key',
  'headers.authorization',
  'headers["telnyx-signature-ed25519"]',
  'req.headers.authorization',
  'req.headers["telnyx-signature-ed25519"]',
  'auth.pass',
  'auth.password',
  'smtp.auth.pass',
];

export function makeLogger(
  options: { level?: string; base?: Record<string, unknown> } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'faxbridge', ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for tests and tools that do not want output. */
export function makeSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

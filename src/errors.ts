/**
 * The one error type the daemon passes between layers. Vendor errors (undici, pg, smtp) are coerced into it at
 * each boundary so that callers decide on `code` and `retryable`, never on message text.
 */
export type FaxErrorCode =
  | 'config'
  | 'bad_recipient'
  | 'sender_not_allowed'
  | 'no_document'
  | 'bad_document'
  | 'too_large'
  | 'storage_unavailable'
  | 'database_unavailable'
  | 'telnyx_rejected'
  | 'telnyx_unavailable'
  | 'telnyx_uncertain'
  | 'rate_limited'
  | 'not_found'
  | 'internal';

export interface FaxErrorOptions {
  retryable?: boolean;
  /** SMTP reply code to use when this error reaches the SMTP edge (smtp-server's `responseCode`). */
  smtpCode?: number;
  /** Enhanced status code (RFC 3463) such as `5.6.0`. */
  enhancedCode?: string;
  cause?: unknown;
}

export class FaxError extends Error {
  readonly code: FaxErrorCode;
  readonly retryable: boolean;
  readonly smtpCode: number | undefined;
  readonly enhancedCode: string | undefined;

  constructor(code: FaxErrorCode, message: string, options: FaxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FaxError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.smtpCode = options.smtpCode;
    this.enhancedCode = options.enhancedCode;
  }
}

/** Turns anything thrown into an Error without losing the original, so every catch can log and branch safely. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown), { cause: thrown });
}

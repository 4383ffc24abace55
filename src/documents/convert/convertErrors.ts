/**
 * What can go wrong while turning one attachment into fax pages. Converters run inside a killable child process,
 * so the error must survive being sent over IPC: a plain `code` and a message in plain words that the SMTP edge
 * can put in its reply after the file name ("Letter.docx: cannot be read: …").
 *
 * - unreadable: the file is damaged, or is not what its bytes first claimed (554 5.6.0 naming it)
 * - too_large: more pages or pixels than a fax can carry (554 5.6.0)
 * - unsupported: a kind we refuse on purpose, with advice (550 5.6.0)
 * - timeout: the converter did not finish within documents.convert_timeout (554 5.6.0)
 * - unavailable: the converter is missing, down or overloaded; the sender's server should retry (451 4.3.0)
 */
export type ConvertErrorCode = 'unreadable' | 'too_large' | 'unsupported' | 'timeout' | 'unavailable';

export class ConvertError extends Error {
  readonly code: ConvertErrorCode;

  constructor(code: ConvertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConvertError';
    this.code = code;
  }

  /** The SMTP reply class the message should get; the text is the caller's, built from `message`. */
  get smtpCode(): 451 | 550 | 554 {
    if (this.code === 'unavailable') return 451;
    if (this.code === 'unsupported') return 550;
    return 554;
  }
}

/** Rebuilds a ConvertError from its plain form, e.g. after it crossed from the sandbox child to the daemon. */
export function isConvertErrorLike(value: unknown): value is { code: ConvertErrorCode; message: string } {
  if (!value || typeof value !== 'object') return false;
  const { code, message } = value as { code?: unknown; message?: unknown };
  return (
    typeof message === 'string' &&
    (code === 'unreadable' ||
      code === 'too_large' ||
      code === 'unsupported' ||
      code === 'timeout' ||
      code === 'unavailable')
  );
}

/** Any failure inside a decoder that is not already ours means the file could not be read. */
export function toConvertError(error: unknown, what: string): ConvertError {
  if (error instanceof ConvertError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  // sharp's limitInputPixels refusal: a decompression bomb or an absurdly large scan.
  if (/pixel limit/i.test(detail)) {
    return new ConvertError('too_large', `the ${what} has too many pixels to fax`, { cause: error });
  }
  return new ConvertError('unreadable', `the ${what} could not be read (${detail})`, { cause: error });
}

/** The timeout refusal, worded the same for every converter: "took longer than 60 s to convert". */
export function conversionTimedOut(timeoutMs: number): ConvertError {
  const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  return new ConvertError('timeout', `took longer than ${limit} to convert`);
}

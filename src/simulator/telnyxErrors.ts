import { STATUS_CODES } from '../lib/nodeHttp.js';

/**
 * Telnyx's error envelope `{errors:[{code,title,detail,source,meta}]}` (SPEC `programmable-fax_Errors`;
 * docs/telnyx.md §4). `code` is a string; `meta.url` points at the code's documentation page.
 */
export interface TelnyxError {
  code: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

export interface ErrorEnvelope {
  errors: TelnyxError[];
}

/** The generic 10xxx codes the simulator uses (developers.telnyx.com api-errors page). */
export const ERROR_CODES = {
  invalidUrl: { code: '10003', title: 'Invalid URL' },
  missingParameter: { code: '10004', title: 'Missing required parameter' },
  resourceNotFound: { code: '10005', title: 'Resource not found' },
  unexpected: { code: '10007', title: 'Unexpected error' },
  requestTimeout: { code: '10008', title: 'Request timeout' },
  authenticationFailed: { code: '10009', title: 'Authentication failed' },
  tooManyRequests: { code: '10011', title: 'Too many requests' },
  unsupportedMediaType: { code: '10014', title: 'Unsupported media type' },
  badRequest: { code: '10015', title: 'Bad Request' },
  notE164: { code: '10016', title: 'Phone number must be in +E.164 format' },
  associatedResourceMissing: { code: '10017', title: 'Associated resource does not exist' },
  /** The SPEC's own 422 and 404 examples use the HTTP status as the code. */
  unprocessable: { code: '422', title: 'Unprocessable Entity' },
  notFound: { code: '404', title: 'Not Found' },
} as const;

type ErrorKind = keyof typeof ERROR_CODES;

export function telnyxError(kind: ErrorKind, detail: string, source?: TelnyxError['source']): TelnyxError {
  const { code, title } = ERROR_CODES[kind];
  const error: TelnyxError = { code, title, detail };
  if (source) error.source = source;
  if (/^\d{5}$/.test(code))
    error.meta = { url: `https://developers.telnyx.com/docs/overview/errors/${code}` };
  return error;
}

export function envelope(...errors: TelnyxError[]): ErrorEnvelope {
  return { errors };
}

/** A plausible Telnyx body for an injected status when the test did not give one. */
export function defaultErrorBody(status: number): ErrorEnvelope {
  switch (status) {
    case 401:
      return envelope(telnyxError('authenticationFailed', 'Could not understand the provided credentials.'));
    case 404:
      return envelope(telnyxError('notFound', 'The requested resource does not exist'));
    case 408:
      return envelope(telnyxError('requestTimeout', 'The request timed out.'));
    case 422:
      return envelope(telnyxError('unprocessable', 'The request parameters failed validation'));
    case 429:
      return envelope(
        telnyxError('tooManyRequests', 'You have exceeded the maximum number of allowed requests.'),
      );
    default:
      if (status >= 500) return envelope(telnyxError('unexpected', 'An unexpected error occurred.'));
      return envelope({ code: String(status), title: STATUS_CODES[status] ?? 'Error' });
  }
}

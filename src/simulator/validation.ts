import { type TelnyxError, telnyxError } from './telnyxErrors.js';

/**
 * Validates a `POST /v2/faxes` JSON body like Telnyx (SPEC `SendFaxRequest`; docs/telnyx.md §1.1).
 * Every problem is reported at once, each with a JSON pointer. Unknown fields are ignored, as Telnyx does.
 *
 * Codes: 10004 missing required parameter, 10016 number not +E.164, 10003 invalid URL, 10017 unknown
 * connection, and the SPEC's generic "422 Unprocessable Entity" for other bad values (bad Base64, enum or
 * type violations, two media sources). `media_name` is refused with 10005: the simulator has no Media API.
 */
export interface SendFaxInput {
  connectionId: string;
  from: string;
  to: string;
  mediaUrl: string;
  clientState: string | null;
  webhookUrl: string | null;
  quality: string;
  storeMedia: boolean;
  fromDisplayName: string | null;
}

export type ValidationResult = { ok: true; value: SendFaxInput } | { ok: false; errors: TelnyxError[] };

const E164 = /^\+[1-9]\d{1,14}$/;
const SIP_URI = /^sips?:[^@\s]+@[^\s]+$/i;
/** Strict Base64 (RFC 4648 §4, padded), which is what "must be a valid Base-64 encoded string" means. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DISPLAY_NAME = /^[A-Za-z0-9 \-_~!.+]{1,128}$/;
const MAX_URL_CHARS = 2000;
const QUALITIES = ['normal', 'high', 'very_high', 'ultra_light', 'ultra_dark'];
const BOOLEAN_FIELDS = ['t38_enabled', 'monochrome', 'store_media', 'store_preview'];

export function isE164(value: string): boolean {
  return E164.test(value);
}

export function isHttpUrl(value: string): boolean {
  if (value.length > MAX_URL_CHARS) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export function validateSendFax(
  body: Record<string, unknown>,
  expectedConnectionId?: string,
): ValidationResult {
  const errors: TelnyxError[] = [];
  const pointer = (field: string) => ({ pointer: `/${field}` });
  const str = (field: string): string | null => {
    const value = body[field];
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') return value;
    errors.push(telnyxError('unprocessable', `The '${field}' parameter must be a string.`, pointer(field)));
    return null;
  };

  for (const field of ['connection_id', 'from', 'to']) {
    const value = body[field];
    if (value === undefined || value === null || value === '') {
      errors.push(telnyxError('missingParameter', `The '${field}' parameter is required.`, pointer(field)));
    }
  }
  const connectionId = str('connection_id');
  if (connectionId && expectedConnectionId !== undefined && connectionId !== expectedConnectionId) {
    const detail = `The connection_id '${connectionId}' does not belong to this account.`;
    errors.push(telnyxError('associatedResourceMissing', detail, pointer('connection_id')));
  }
  const from = str('from');
  if (from && !isE164(from)) {
    const detail = "The 'from' phone number must be in +E.164 format.";
    errors.push(telnyxError('notE164', detail, pointer('from')));
  }
  const to = str('to');
  if (to && !isE164(to) && !SIP_URI.test(to)) {
    const detail = "The 'to' phone number must be in +E.164 format or a SIP URI.";
    errors.push(telnyxError('notE164', detail, pointer('to')));
  }

  const mediaUrl = str('media_url');
  const mediaName = str('media_name');
  if (body.contents !== undefined) {
    const detail = 'contents is only accepted in multipart/form-data requests.';
    errors.push(telnyxError('unprocessable', detail, pointer('contents')));
  }
  if (mediaUrl !== null && mediaName !== null) {
    const detail = "media_url and media_name can't be submitted together.";
    errors.push(telnyxError('unprocessable', detail, pointer('media_name')));
  } else if (mediaName !== null) {
    errors.push(telnyxError('resourceNotFound', `No media named '${mediaName}'.`, pointer('media_name')));
  } else if (mediaUrl === null) {
    const detail = 'One of media_url or media_name is required.';
    errors.push(telnyxError('missingParameter', detail, pointer('media_url')));
  } else if (!isHttpUrl(mediaUrl)) {
    const detail = `media_url must be a valid http(s) URL of at most ${MAX_URL_CHARS} characters.`;
    errors.push(telnyxError('invalidUrl', detail, pointer('media_url')));
  }

  const clientState = str('client_state');
  if (clientState !== null && !BASE64.test(clientState)) {
    const detail = 'client_state must be a valid Base-64 encoded string.';
    errors.push(telnyxError('unprocessable', detail, pointer('client_state')));
  }
  const webhookUrl = str('webhook_url');
  if (webhookUrl !== null && !isHttpUrl(webhookUrl)) {
    const detail = `webhook_url must be a valid http(s) URL of at most ${MAX_URL_CHARS} characters.`;
    errors.push(telnyxError('invalidUrl', detail, pointer('webhook_url')));
  }
  errors.push(...validateOptionalFields(body));
  const fromDisplayName = str('from_display_name');
  if (fromDisplayName !== null && !DISPLAY_NAME.test(fromDisplayName)) {
    const detail = 'from_display_name must be at most 128 letters, digits, spaces or -_~!.+ characters.';
    errors.push(telnyxError('unprocessable', detail, pointer('from_display_name')));
  }

  if (errors.length > 0 || !connectionId || !from || !to || !mediaUrl) return { ok: false, errors };
  return {
    ok: true,
    value: {
      connectionId,
      from,
      to,
      mediaUrl,
      clientState,
      webhookUrl,
      quality: typeof body.quality === 'string' ? body.quality : 'high',
      storeMedia: body.store_media === true,
      fromDisplayName,
    },
  };
}

/** Enum, boolean and range checks for the optional knobs the daemon does not rely on. */
function validateOptionalFields(body: Record<string, unknown>): TelnyxError[] {
  const errors: TelnyxError[] = [];
  const bad = (field: string, detail: string) =>
    errors.push(telnyxError('unprocessable', detail, { pointer: `/${field}` }));
  if (body.quality !== undefined && !QUALITIES.includes(body.quality as string)) {
    bad('quality', `quality must be one of ${QUALITIES.join(', ')}.`);
  }
  for (const field of BOOLEAN_FIELDS) {
    if (body[field] !== undefined && typeof body[field] !== 'boolean')
      bad(field, `${field} must be a boolean.`);
  }
  const threshold = body.black_threshold;
  if (
    threshold !== undefined &&
    !(Number.isInteger(threshold) && Number(threshold) >= 1 && Number(threshold) <= 100)
  ) {
    bad('black_threshold', 'black_threshold must be an integer from 1 to 100.');
  }
  if (body.preview_format !== undefined && body.preview_format !== 'pdf' && body.preview_format !== 'tiff') {
    bad('preview_format', 'preview_format must be pdf or tiff.');
  }
  return errors;
}

import type { TelnyxFax, UnreadableFax } from './types.js';

/**
 * Minimal shape checks on 2xx bodies. Telnyx adds fields often (docs/telnyx.md §0), so unknown fields pass
 * through untouched; only what callers key on (id, status, direction, numbers, created_at) must be present.
 */
export function isTelnyxFax(value: unknown): value is TelnyxFax {
  if (typeof value !== 'object' || value === null) return false;
  const fax = value as Record<string, unknown>;
  return (
    typeof fax.id === 'string' &&
    fax.id.length > 0 &&
    typeof fax.status === 'string' &&
    (fax.direction === 'inbound' || fax.direction === 'outbound') &&
    typeof fax.from === 'string' &&
    typeof fax.to === 'string' &&
    typeof fax.created_at === 'string'
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `{ data: Fax }` (send, get) or null when the body is anything else. */
export function tryParseFaxEnvelope(text: string): TelnyxFax | null {
  const data = (parseJson(text) as { data?: unknown } | undefined)?.data;
  return isTelnyxFax(data) ? data : null;
}

export interface FaxPage {
  faxes: TelnyxFax[];
  unreadable: UnreadableFax[];
  /** Entries on the page, readable or not: a full page means there may be another. */
  entries: number;
  /** `meta.total_pages`, or null when Telnyx did not say or said something that is not an integer. */
  totalPages: number | null;
}

const SNIPPET_CHARS = 200;

/**
 * `{ data: Fax[], meta: PaginationMeta }`, read entry by entry: one odd entry (a new field type, `from: null`)
 * is set aside instead of voiding the page, so the other faxes still count. Null when the body itself cannot
 * be read (not JSON, no `data` array): the caller must treat that as "unknown", never as "no faxes".
 */
export function tryParseFaxPage(text: string): FaxPage | null {
  const body = parseJson(text) as { data?: unknown; meta?: { total_pages?: unknown } | null } | undefined;
  if (!Array.isArray(body?.data)) return null;
  const faxes: TelnyxFax[] = [];
  const unreadable: UnreadableFax[] = [];
  for (const entry of body.data as unknown[]) {
    if (isTelnyxFax(entry)) faxes.push(entry);
    else unreadable.push(describeUnreadable(entry));
  }
  const total = typeof body.meta === 'object' && body.meta !== null ? body.meta.total_pages : undefined;
  return {
    faxes,
    unreadable,
    entries: body.data.length,
    totalPages: typeof total === 'number' && Number.isInteger(total) ? total : null,
  };
}

function describeUnreadable(entry: unknown): UnreadableFax {
  const fields = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
  return {
    id: typeof fields.id === 'string' ? fields.id : null,
    client_state: typeof fields.client_state === 'string' ? fields.client_state : null,
    snippet: (JSON.stringify(entry) ?? String(entry)).slice(0, SNIPPET_CHARS),
  };
}

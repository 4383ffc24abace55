import type { TelnyxFax } from './types.js';

/**
 * Minimal shape checks on 2xx bodies. Telnyx adds fields often (telnyx-fax-api.md §0), so unknown fields pass
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
  /** `meta.total_pages`, or null when Telnyx did not say (then this page is the last). */
  totalPages: number | null;
}

/** `{ data: Fax[], meta: PaginationMeta }` or null. One malformed fax voids the page: a reconciliation that silently
 * skipped it could miss the fax it is looking for and send a duplicate. */
export function tryParseFaxPage(text: string): FaxPage | null {
  const body = parseJson(text) as { data?: unknown; meta?: { total_pages?: unknown } } | undefined;
  if (!Array.isArray(body?.data) || !body.data.every(isTelnyxFax)) return null;
  const total = body.meta?.total_pages;
  return {
    faxes: body.data,
    totalPages: typeof total === 'number' && Number.isInteger(total) ? total : null,
  };
}

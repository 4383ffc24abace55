import type { FaxRecord } from './faxStore.js';
import { toApiFax } from './faxStore.js';
import { envelope, type ErrorEnvelope, type TelnyxError, telnyxError } from './telnyxErrors.js';
import type { InjectedResponse } from './types.js';

/**
 * `GET /v2/faxes` (SPEC `ListFaxes`; docs/telnyx.md §2): deepObject filters `filter[to][eq]`,
 * `filter[from][eq]`, `filter[direction][eq]`, `filter[created_at][gte|gt|lte|lt]`, and page-number paging
 * `page[number]` (default 1) / `page[size]` (default 20, at most 250, like the SPEC's `PageConsolidated`).
 * Newest first. Unknown query parameters are ignored; unreadable values answer 400 naming the parameter.
 */
export interface ListAnswer {
  status: number;
  body: { data: Record<string, unknown>[]; meta: PaginationMeta } | ErrorEnvelope;
}

interface PaginationMeta {
  page_number: number;
  page_size: number;
  total_pages: number;
  total_results: number;
}

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 250;
const DATE_OPERATORS = ['gte', 'gt', 'lte', 'lt'] as const;

export function listFaxes(records: FaxRecord[], query: URLSearchParams): ListAnswer {
  const bad = (parameter: string, detail: string) => telnyxError('badRequest', detail, { parameter });
  const errors: TelnyxError[] = [];

  const pageNumber = readInteger(query, 'page[number]', 1);
  const pageSize = readInteger(query, 'page[size]', DEFAULT_PAGE_SIZE);
  if (pageNumber === null || pageNumber < 1)
    errors.push(bad('page[number]', 'page[number] must be an integer ≥ 1.'));
  if (pageSize === null || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    errors.push(bad('page[size]', `page[size] must be an integer from 1 to ${MAX_PAGE_SIZE}.`));
  }
  const bounds: Partial<Record<(typeof DATE_OPERATORS)[number], number>> = {};
  for (const operator of DATE_OPERATORS) {
    const parameter = `filter[created_at][${operator}]`;
    const text = query.get(parameter);
    if (text === null) continue;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) errors.push(bad(parameter, `${parameter} must be an ISO 8601 date-time.`));
    else bounds[operator] = ms;
  }
  const direction = query.get('filter[direction][eq]');
  if (direction !== null && direction !== 'inbound' && direction !== 'outbound') {
    errors.push(bad('filter[direction][eq]', 'filter[direction][eq] must be inbound or outbound.'));
  }
  if (errors.length > 0 || pageNumber === null || pageSize === null) {
    return { status: 400, body: envelope(...errors) };
  }

  const to = query.get('filter[to][eq]');
  const from = query.get('filter[from][eq]');
  const matching = records
    .map((record) => record.fax)
    .filter((fax) => !fax.deleted)
    .filter((fax) => to === null || fax.to === to)
    .filter((fax) => from === null || fax.from === from)
    .filter((fax) => direction === null || fax.direction === direction)
    .filter((fax) => {
      const created = Date.parse(fax.createdAt);
      return (
        (bounds.gte === undefined || created >= bounds.gte) &&
        (bounds.gt === undefined || created > bounds.gt) &&
        (bounds.lte === undefined || created <= bounds.lte) &&
        (bounds.lt === undefined || created < bounds.lt)
      );
    })
    .reverse()
    // Newest first by creation time, as Telnyx orders; seeded faxes may be dated after later requests.
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));

  const start = (pageNumber - 1) * pageSize;
  return {
    status: 200,
    body: {
      data: matching.slice(start, start + pageSize).map(toApiFax),
      meta: {
        page_number: pageNumber,
        page_size: pageSize,
        total_pages: Math.ceil(matching.length / pageSize),
        total_results: matching.length,
      },
    },
  };
}

function readInteger(query: URLSearchParams, name: string, fallback: number): number | null {
  const text = query.get(name);
  if (text === null) return fallback;
  return /^\d+$/.test(text) ? Number(text) : null;
}

/**
 * Test controls on a real `GET /faxes` answer (InjectedResponse `omitTotalPages`, `patchEntries`): the shapes
 * Telnyx has been seen to send, which the daemon must survive. Any other body passes through untouched.
 */
export function reshapeList(
  body: unknown,
  controls: Pick<InjectedResponse, 'omitTotalPages' | 'patchEntries'>,
): unknown {
  const list = body as { data?: unknown; meta?: Record<string, unknown> } | undefined;
  if (!list || !Array.isArray(list.data)) return body;
  const patch = controls.patchEntries;
  const matches = (entry: Record<string, unknown>) =>
    !!patch && Object.entries(patch.match).every(([key, value]) => entry[key] === value);
  const data = (list.data as Array<Record<string, unknown>>).map((entry) =>
    matches(entry) ? { ...entry, ...patch!.set } : entry,
  );
  const meta = { ...list.meta };
  if (controls.omitTotalPages) delete meta.total_pages;
  return { ...list, data, meta };
}

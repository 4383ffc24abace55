import { type AccountDeps, getFaxApplication, listPhoneNumbers } from './account.js';
import { listFaxes } from './faxList.js';
import type { FaxStore } from './faxStore.js';
import { toApiFax } from './faxStore.js';
import { type InboundDeps, refreshInboundMedia } from './inbound.js';
import { cancelOutboundFax, createOutboundFax, type OutboundDeps } from './outbound.js';
import { envelope, telnyxError } from './telnyxErrors.js';
import { validateSendFax } from './validation.js';

/**
 * The `/v2` fax endpoints (SPEC `paths./faxes*`; docs/telnyx.md §1–§2). Handlers return the answer
 * instead of writing it, so that the server can swap in an injected answer after running the real one.
 */
export interface ApiRequest {
  method: string;
  /** Path relative to `/v2`, without trailing slash. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteMatch {
  /** `METHOD`-less template such as `/faxes/{id}/actions/cancel`, used for injections and logs. */
  template: string;
  id: string | null;
}

export interface RouteDeps {
  store: FaxStore;
  outbound: OutboundDeps;
  inbound: InboundDeps;
  connectionId: string | undefined;
  account: AccountDeps;
}

const ROUTES: Array<{ method: string; pattern: RegExp; template: string }> = [
  { method: 'GET', pattern: /^\/faxes$/, template: '/faxes' },
  { method: 'POST', pattern: /^\/faxes$/, template: '/faxes' },
  { method: 'GET', pattern: /^\/faxes\/([^/]+)$/, template: '/faxes/{id}' },
  { method: 'DELETE', pattern: /^\/faxes\/([^/]+)$/, template: '/faxes/{id}' },
  { method: 'POST', pattern: /^\/faxes\/([^/]+)\/actions\/cancel$/, template: '/faxes/{id}/actions/cancel' },
  {
    method: 'POST',
    pattern: /^\/faxes\/([^/]+)\/actions\/refresh$/,
    template: '/faxes/{id}/actions/refresh',
  },
  { method: 'GET', pattern: /^\/fax_applications\/([^/]+)$/, template: '/fax_applications/{id}' },
  { method: 'GET', pattern: /^\/phone_numbers$/, template: '/phone_numbers' },
];

export function matchRoute(method: string, path: string): RouteMatch | null {
  for (const route of ROUTES) {
    const found = route.method === method ? route.pattern.exec(path) : null;
    if (found) return { template: route.template, id: found[1] ? decodeURIComponent(found[1]) : null };
  }
  return null;
}

export const NOT_FOUND: ApiResponse = {
  status: 404,
  body: envelope(telnyxError('notFound', 'The requested resource does not exist')),
};

export function handleApi(deps: RouteDeps, request: ApiRequest, route: RouteMatch): ApiResponse {
  const key = `${request.method} ${route.template}`;
  if (key === 'POST /faxes') return sendFax(deps, request);
  if (key === 'GET /faxes') return listFaxes(deps.store.all(), request.query);
  if (key === 'GET /fax_applications/{id}') return getFaxApplication(deps.account, route.id ?? '');
  if (key === 'GET /phone_numbers') return listPhoneNumbers(deps.account, request.query);

  const record = route.id === null ? undefined : deps.store.get(route.id);
  if (!record) return NOT_FOUND;
  switch (key) {
    case 'GET /faxes/{id}':
      return { status: 200, body: { data: toApiFax(record.fax) } };
    case 'DELETE /faxes/{id}':
      deps.store.update(record, { deleted: true });
      return { status: 204 };
    case 'POST /faxes/{id}/actions/cancel':
      if (cancelOutboundFax(deps.outbound, record)) return { status: 202, body: { data: { result: 'ok' } } };
      return {
        status: 422,
        body: envelope(
          telnyxError(
            'unprocessable',
            `Only an outbound fax in queued, media.processed, originated or sending can be cancelled; ` +
              `this one is ${record.fax.direction} and ${record.fax.status}.`,
          ),
        ),
      };
    case 'POST /faxes/{id}/actions/refresh':
      refreshInboundMedia(deps.inbound, record);
      return { status: 200, body: { data: { result: 'ok' } } };
    default:
      return NOT_FOUND;
  }
}

function sendFax(deps: RouteDeps, request: ApiRequest): ApiResponse {
  const contentType = String(request.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(contentType)) {
    const detail = 'The simulator accepts POST /faxes as application/json only.';
    return { status: 415, body: envelope(telnyxError('unsupportedMediaType', detail)) };
  }
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody);
  } catch {
    body = undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const detail = 'The request failed because it was not well-formed.';
    return { status: 400, body: envelope(telnyxError('badRequest', detail, { pointer: '/' })) };
  }
  const parsed = body as Record<string, unknown>;
  const result = validateSendFax(parsed, deps.connectionId);
  if (!result.ok) return { status: 422, body: envelope(...result.errors) };
  const record = createOutboundFax(deps.outbound, result.value, parsed, request.rawBody);
  return { status: 202, body: { data: toApiFax(record.fax) } };
}

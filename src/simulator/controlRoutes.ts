import type { FaxStore } from './faxStore.js';
import { toApiFax } from './faxStore.js';
import { type InboundDeps, startInboundFax } from './inbound.js';
import { MAGIC_NUMBERS } from './magicNumbers.js';
import { accessDeniedXml, MEDIA_PATH_PREFIX, type MediaVault } from './mediaVault.js';
import type { ApiRequest, ApiResponse } from './routes.js';
import { envelope, telnyxError } from './telnyxErrors.js';
import type { InboundOptions } from './types.js';

/**
 * Paths outside `/v2`: the signed download links of received faxes (what Telnyx serves from S3), and the
 * sandbox controls that `faxbridge simulate inbound` can call from another process:
 * - `POST /_sim/inbound` `{from, to, pages?, partial?, webhookUrl?, failWith?, mediaTtlMs?}` → 202 `{data: Fax}`
 * - `GET /_sim/magic-numbers` → `{data: [{number, description, outcome}]}`
 */
export interface ControlDeps {
  store: FaxStore;
  vault: MediaVault;
  inbound: InboundDeps;
}

export async function handleControl(deps: ControlDeps, request: ApiRequest): Promise<ApiResponse | null> {
  if (request.method === 'GET' && request.path.startsWith(MEDIA_PATH_PREFIX))
    return serveMedia(deps, request);
  if (request.method === 'GET' && request.path === '/_sim/magic-numbers') {
    return { status: 200, body: { data: MAGIC_NUMBERS } };
  }
  if (request.method === 'POST' && request.path === '/_sim/inbound') return simulateInbound(deps, request);
  return null;
}

function serveMedia(deps: ControlDeps, request: ApiRequest): ApiResponse {
  const faxId = request.path.slice(MEDIA_PATH_PREFIX.length).replace(/\.pdf$/, '');
  const record = deps.store.get(faxId);
  const verdict = deps.vault.check(faxId, request.query.get('token'));
  const xml = { 'content-type': 'application/xml' };
  if (verdict === 'expired')
    return { status: 403, headers: xml, body: accessDeniedXml('Request has expired') };
  if (verdict !== 'ok' || !record?.inboundPdf) {
    return { status: 403, headers: xml, body: accessDeniedXml('Access Denied') };
  }
  return { status: 200, headers: { 'content-type': 'application/pdf' }, body: record.inboundPdf };
}

async function simulateInbound(deps: ControlDeps, request: ApiRequest): Promise<ApiResponse> {
  let options: InboundOptions;
  try {
    options = JSON.parse(request.rawBody) as InboundOptions;
    if (typeof options.from !== 'string' || typeof options.to !== 'string')
      throw new Error('from and to needed');
  } catch {
    const detail = 'Send JSON {from, to, pages?, partial?, webhookUrl?, failWith?, mediaTtlMs?}.';
    return { status: 400, body: envelope(telnyxError('badRequest', detail, { pointer: '/' })) };
  }
  try {
    const record = await startInboundFax(deps.inbound, options);
    return { status: 202, body: { data: toApiFax(record.fax) } };
  } catch (thrown) {
    const detail = thrown instanceof Error ? thrown.message : String(thrown);
    return { status: 422, body: envelope(telnyxError('unprocessable', detail)) };
  }
}

/**
 * Gets a received fax's PDF onto local disk: the known `media_url` first; when that link is refused (it
 * expires about 10 minutes after fax.received) or unknown, `POST /faxes/{id}/actions/refresh` and read the
 * fresh link back with `GET /faxes/{id}` (docs/telnyx.md §2; docs/behaviour.md §7), then download again.
 */
import type { Dispatcher } from 'undici';

import type { TelnyxClient, TelnyxOutcome } from '../telnyx/client.js';
import { downloadMedia } from './downloadMedia.js';

export type FetchOutcome =
  | { kind: 'ok'; size: number; sha256: string; mediaUrl: string; refreshed: boolean }
  /** `mediaUrl` is the newest link seen (kept on the row for the next try). */
  | { kind: 'failed'; reason: string; mediaUrl: string | null };

export interface FetchDeps {
  telnyx: Pick<TelnyxClient, 'refreshFaxMedia' | 'getFax'>;
  dispatcher: Dispatcher;
  maxBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function fetchReceivedFax(
  deps: FetchDeps,
  fax: { fax_id: string; media_url: string | null },
  target: string,
): Promise<FetchOutcome> {
  const download = (url: string) =>
    downloadMedia(url, target, {
      dispatcher: deps.dispatcher,
      maxBytes: deps.maxBytes,
      timeoutMs: deps.timeoutMs,
      signal: deps.signal,
    });

  let refusal = 'no media_url known';
  if (fax.media_url) {
    const first = await download(fax.media_url);
    if (first.kind === 'ok') return { ...first, mediaUrl: fax.media_url, refreshed: false };
    // A network error or 5xx says nothing about the link; it is tried again as it is, later.
    if (first.kind === 'failed') return { kind: 'failed', reason: first.reason, mediaUrl: fax.media_url };
    refusal = `media_url ${first.reason}`;
  }

  const refreshed = await deps.telnyx.refreshFaxMedia(fax.fax_id, deps.signal);
  if (refreshed.kind !== 'ok') {
    return {
      kind: 'failed',
      reason: `${refusal}; refresh: ${describeOutcome(refreshed)}`,
      mediaUrl: fax.media_url,
    };
  }
  const read = await deps.telnyx.getFax(fax.fax_id, deps.signal);
  if (read.kind !== 'ok') {
    return {
      kind: 'failed',
      reason: `${refusal}; GET /faxes: ${describeOutcome(read)}`,
      mediaUrl: fax.media_url,
    };
  }
  const fresh =
    typeof read.value.media_url === 'string' && read.value.media_url ? read.value.media_url : null;
  if (!fresh) {
    return {
      kind: 'failed',
      reason: `${refusal}; the refreshed fax has no media_url`,
      mediaUrl: fax.media_url,
    };
  }
  const second = await download(fresh);
  if (second.kind === 'ok') return { ...second, mediaUrl: fresh, refreshed: true };
  const why = second.kind === 'refused' ? `refreshed media_url ${second.reason}` : second.reason;
  return { kind: 'failed', reason: `${refusal}; ${why}`, mediaUrl: fresh };
}

function describeOutcome(outcome: Exclude<TelnyxOutcome<unknown>, { kind: 'ok' }>): string {
  if (outcome.kind === 'rejected') return `${outcome.status} ${outcome.detail}`;
  return outcome.reason;
}

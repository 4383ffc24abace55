/**
 * What the daemon last heard from Telnyx, for the console's health page: every call the client makes is noted
 * (which call, when, how it ended), so the page shows the API's real state without calling it itself. The
 * missed-fax poll lists faxes every few minutes, so a running daemon always has a recent answer.
 */
import type { TelnyxClient, TelnyxOutcome } from './types.js';

export interface TelnyxCallNote {
  /** `POST /faxes`, `GET /faxes`, `GET /faxes/:id`… (no ids: they say nothing about the API's health). */
  call: string;
  /** Epoch ms the answer (or the failure) came. */
  at: number;
  outcome: TelnyxOutcome<unknown>['kind'];
  /** HTTP status when there was an answer. */
  status: number | null;
  /** Why it failed, in the client's words (API key already redacted); null when it worked. */
  detail: string | null;
}

export interface TelnyxCallLog {
  /** The most recent call, or null before the first. */
  last(): TelnyxCallNote | null;
  /** The most recent call that came back `ok`, or null. */
  lastOk(): TelnyxCallNote | null;
}

/** `client` with every call noted; the notes are read through the returned log. */
export function withCallLog(
  client: TelnyxClient,
  now: () => number,
): { client: TelnyxClient; calls: TelnyxCallLog } {
  let last: TelnyxCallNote | null = null;
  let lastOk: TelnyxCallNote | null = null;
  const note =
    <T>(call: string) =>
    (outcome: TelnyxOutcome<T>): TelnyxOutcome<T> => {
      const failed = outcome.kind === 'ok' ? null : outcome;
      last = {
        call,
        at: now(),
        outcome: outcome.kind,
        status: failed ? failed.status : null,
        detail: failed ? (failed.kind === 'rejected' ? failed.detail : failed.reason) : null,
      };
      if (outcome.kind === 'ok') lastOk = last;
      return outcome;
    };
  return {
    client: {
      sendFax: (req, signal) => client.sendFax(req, signal).then(note('POST /faxes')),
      listFaxes: (filter, signal) => client.listFaxes(filter, signal).then(note('GET /faxes')),
      getFax: (id, signal) => client.getFax(id, signal).then(note('GET /faxes/:id')),
      refreshFaxMedia: (id, signal) =>
        client.refreshFaxMedia(id, signal).then(note('POST /faxes/:id/actions/refresh')),
      cancelFax: (id, signal) => client.cancelFax(id, signal).then(note('POST /faxes/:id/actions/cancel')),
      close: () => client.close(),
    },
    calls: { last: () => last, lastOk: () => lastOk },
  };
}

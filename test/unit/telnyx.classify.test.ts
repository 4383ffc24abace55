import { describe, expect, it } from 'vitest';

import {
  classifyHttpStatus,
  classifyTransportError,
  describeErrors,
  parseErrorEnvelope,
} from '../../src/telnyx/classify.js';

function codeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

const base = { call: 'POST /faxes', sent: false, callerAborted: false, timedOut: false, timeoutMs: 30_000 };

describe('classifyTransportError', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH'])(
    '%s is retry: the request never reached Telnyx',
    (code) => {
      const outcome = classifyTransportError(codeError(code), base);
      expect(outcome).toMatchObject({ kind: 'retry', status: null, retryAfterMs: null });
      expect(outcome.kind === 'retry' && outcome.reason).toContain(code);
    },
  );

  it('finds the code inside an AggregateError (happy-eyeballs connect) and along the cause chain', () => {
    const aggregate = new AggregateError([codeError('ECONNREFUSED'), codeError('ECONNREFUSED')], 'connect');
    expect(classifyTransportError(aggregate, { ...base, sent: true }).kind).toBe('retry');
    const wrapped = new Error('fetch failed', { cause: codeError('ENOTFOUND') });
    expect(classifyTransportError(wrapped, { ...base, sent: true }).kind).toBe('retry');
  });

  it.each(['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'EPIPE'])(
    '%s after sending is uncertain',
    (code) => {
      expect(classifyTransportError(codeError(code), { ...base, sent: true })).toMatchObject({
        kind: 'uncertain',
        status: null,
      });
    },
  );

  it('a socket error before anything was written is retry', () => {
    expect(classifyTransportError(codeError('ECONNRESET'), base).kind).toBe('retry');
  });

  it('names timeouts and caller aborts in the reason', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const timedOut = classifyTransportError(timeout, { ...base, sent: true, timedOut: true, timeoutMs: 250 });
    expect(timedOut).toEqual({
      kind: 'uncertain',
      status: null,
      reason: 'POST /faxes timed out after 250 ms (after the request was sent)',
    });
    const aborted = classifyTransportError(new Error('shutdown'), { ...base, callerAborted: true });
    expect(aborted).toMatchObject({
      kind: 'retry',
      reason: 'POST /faxes aborted by caller (request not sent)',
    });
  });
});

describe('parseErrorEnvelope / describeErrors', () => {
  it('reads the envelope, normalising numeric codes and keeping source', () => {
    const errors = parseErrorEnvelope(
      JSON.stringify({
        errors: [
          {
            code: 10016,
            title: 'Invalid phone number',
            detail: 'to must be +E.164',
            source: { pointer: '/to' },
          },
          { code: '10004', title: 'Missing parameter', meta: { url: 'x' } },
        ],
      }),
    );
    expect(errors).toEqual([
      {
        code: '10016',
        title: 'Invalid phone number',
        detail: 'to must be +E.164',
        source: { pointer: '/to' },
      },
      { code: '10004', title: 'Missing parameter' },
    ]);
    expect(describeErrors(errors!)).toBe('Invalid phone number: to must be +E.164; Missing parameter');
  });

  it.each(['', '<html>502</html>', '{"errors":[]}', '{"errors":"x"}', 'null', '{"data":{}}'])(
    'returns null for %j',
    (text) => {
      expect(parseErrorEnvelope(text)).toBeNull();
    },
  );
});

describe('classifyHttpStatus', () => {
  const respond = (status: number, text: string, headers: Record<string, string> = {}) =>
    classifyHttpStatus('POST /faxes', { status, statusText: '', headers, text });

  it('429 is retry with the advertised wait', () => {
    expect(respond(429, '', { 'x-ratelimit-reset': '2' })).toMatchObject({
      kind: 'retry',
      status: 429,
      retryAfterMs: 2000,
    });
  });

  it.each([408, 500, 502, 503, 504, 302])('%i is uncertain', (status) => {
    expect(respond(status, 'oops')).toMatchObject({ kind: 'uncertain', status });
  });

  it.each([400, 401, 403, 404, 409, 422])('%i is rejected', (status) => {
    expect(respond(status, '')).toMatchObject({ kind: 'rejected', status, errors: [] });
  });

  it('non-JSON 4xx: status text and the first 200 characters of the body', () => {
    const outcome = respond(400, `<html>${'x'.repeat(500)}</html>`);
    expect(outcome.kind === 'rejected' && outcome.detail).toBe(`400 Bad Request: <html>${'x'.repeat(194)}`);
  });
});

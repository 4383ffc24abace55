import { afterEach, describe, expect, it, vi } from 'vitest';

import { withPdfLibWarningsRedirected } from '../../src/documents/redirectPdfLibWarnings.js';
import { makeLogger } from '../../src/log.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function captureLogger(): { log: ReturnType<typeof makeLogger>; warnings: () => string[] } {
  const lines: string[] = [];
  const log = makeLogger({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { log, warnings: () => lines.map((line) => JSON.parse(line).pdfLibWarning as string) };
}

/** A promise with its resolve, to interleave two calls step by step. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('withPdfLibWarningsRedirected', () => {
  it('sends console.warn to the logger while the work runs, and puts console.warn back after', async () => {
    const original = console.warn;
    const { log, warnings } = captureLogger();
    await withPdfLibWarningsRedirected(log, async () => console.warn('Trying to parse invalid object', 7));
    expect(warnings()).toEqual(['Trying to parse invalid object 7']);
    expect(console.warn).toBe(original);
  });

  it.each([
    ['the first', 'first'],
    ['the second', 'second'],
  ])(
    'restores console.warn only when the last of two overlapping calls ends (%s ending first)',
    async (_n, which) => {
      const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const before = console.warn;
      const { log, warnings } = captureLogger();
      const first = gate();
      const second = gate();
      const running = [
        withPdfLibWarningsRedirected(log, () => first.promise),
        withPdfLibWarningsRedirected(log, () => second.promise),
      ];
      const [early, late] = which === 'first' ? [first, second] : [second, first];
      early.open();
      await Promise.race(running.map((call) => call.then(() => undefined)));
      await new Promise((resolve) => setImmediate(resolve));
      // One call is still running: its warnings must still be redirected.
      console.warn('still quiet');
      expect(spy).not.toHaveBeenCalled();
      late.open();
      await Promise.all(running);
      expect(console.warn).toBe(before);
      expect(warnings()).toEqual(['still quiet']);
    },
  );

  it('restores console.warn when the work throws', async () => {
    const original = console.warn;
    await expect(
      withPdfLibWarningsRedirected(undefined, async () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(console.warn).toBe(original);
  });
});

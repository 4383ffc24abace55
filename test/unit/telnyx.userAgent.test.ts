import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { defaultUserAgent } from '../../src/telnyx/userAgent.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('defaultUserAgent', () => {
  it('is faxbridge/<package.json version> from src/', () => {
    expect(defaultUserAgent()).toBe(`faxbridge/${version}`);
  });

  it('finds the same package.json from the deeper dist/ layout', () => {
    const compiled = new URL('../../dist/src/telnyx/userAgent.js', import.meta.url).href;
    expect(defaultUserAgent(compiled)).toBe(`faxbridge/${version}`);
  });

  it('falls back to faxbridge/unknown outside the package', () => {
    expect(defaultUserAgent('file:///nonexistent-root/a/b.js')).toBe('faxbridge/unknown');
  });
});

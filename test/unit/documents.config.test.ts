import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import type { ConfigError } from '../../src/config/loadConfig.js';
import { loadConfig } from '../../src/config/loadConfig.js';

/* The documents.* keys: paper by country unless set, where Office files go, how long a conversion may take. */
function configFrom(text: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fb-config-')), 'faxbridge.yaml');
  writeFileSync(file, text);
  return loadConfig(file, env).config;
}

describe('documents config', () => {
  it('defaults to Letter for +1 countries and A4 elsewhere, unless paper is set', () => {
    expect(configFrom('smtp: { default_country: US }').documents.paper).toBe('letter');
    expect(configFrom('smtp: { default_country: CA }').documents.paper).toBe('letter');
    expect(configFrom('smtp: { default_country: DE }').documents.paper).toBe('a4');
    expect(configFrom('smtp: { default_country: GB }\ndocuments: { paper: letter }').documents.paper).toBe(
      'letter',
    );
  });

  it('takes local, off or a Gotenberg URL for office, and the time limit as a duration', () => {
    expect(configFrom('{}').documents).toEqual({ paper: 'letter', office: 'local', convert_timeout: 60_000 });
    expect(configFrom('documents: { office: off, convert_timeout: 2m }').documents.convert_timeout).toBe(
      120_000,
    );
    const env = { FAXBRIDGE_DOCUMENTS__OFFICE: 'http://gotenberg:3000' };
    expect(configFrom('{}', env).documents.office).toBe('http://gotenberg:3000');
  });

  it('refuses anything else, naming the key', () => {
    const problems = (() => {
      try {
        configFrom('documents: { office: libreoffice, paper: legal }');
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => p.key);
      }
    })();
    expect(problems.sort()).toEqual(['documents.office', 'documents.paper']);
  });
});

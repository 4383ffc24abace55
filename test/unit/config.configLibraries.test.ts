import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { withConfigLibraries } from '../../src/config/configLibraries.js';

const run = promisify(execFile);

/*
 * The daemon reads its configuration once; yaml and zod are loaded for that and let go afterwards
 * (src/config/configLibraries.ts), so that they do not stay resident in an idle daemon (bench/idleRss.ts).
 */
describe('withConfigLibraries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-config-libraries-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves neither yaml nor zod loaded once a configuration has been read, as in `faxbridge start`', async () => {
    const file = join(dir, 'faxbridge.yaml');
    writeFileSync(
      file,
      "timezone: Europe/Berlin\nsenders:\n  - match: '*@example.com'\n    from_number: '+15550002222'\n",
    );
    // The compiled module `faxbridge start` loads (`npm run build` first), in a process of its own: this test
    // file's own imports (vitest, the TypeScript sources) are not what the daemon runs.
    const compiled = new URL('../../dist/src/config/loadConfig.js', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      import { loadConfig } from ${JSON.stringify(compiled)};
      const { config } = loadConfig(${JSON.stringify(file)}, {}, { letLibrariesGo: true });
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        timezone: config.timezone,
        from: config.senders[0].from_number,
        yaml: loaded.filter((f) => f.includes('/node_modules/yaml/')).length,
        zod: loaded.filter((f) => f.includes('/node_modules/zod/')).length,
      }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual({ timezone: 'Europe/Berlin', from: '+15550002222', yaml: 0, zod: 0 });
  });

  it('keeps what was loaded before it, and hands over working libraries', () => {
    const require = createRequire(import.meta.url);
    const yamlEntry = require.resolve('yaml');
    require('yaml');
    const parsed = withConfigLibraries(
      ({ parseDocument, z }) => z.object({ a: z.number() }).parse(parseDocument('a: 1').toJS()),
      { letGo: true },
    );
    expect(parsed).toEqual({ a: 1 });
    expect(require.cache[yamlEntry]).toBeDefined();
  });
});

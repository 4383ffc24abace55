import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { freePort } from '../helpers/freePort.js';
import { openSmtpDialogue } from '../helpers/smtpDialogue.js';

const API_KEY = 'KEY_load_on_use';

/*
 * An idle daemon does not load libphonenumber-js (src/domain/phoneNumber.ts; bench/README.md, "Idle memory"); the
 * first SMTP transaction does, before its first RCPT is read. The daemon runs as `faxbridge start` does (compiled:
 * `npm run build` first) in production mode, with a module hook that notes every ES module the process loads
 * from the library. Lint forbids static imports of it in src/ (eslint.config.js), and no dependency requires it.
 */
describe('libphonenumber-js in the daemon', () => {
  const pool = makeDaemonProcessPool();
  let simulator: Simulator;
  let dir: string;

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: API_KEY });
    dir = mkdtempSync(path.join(tmpdir(), 'fb-load-on-use-'));
  });
  afterAll(async () => {
    await pool.killAll();
    await simulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The `--import` module that registers the hook; the hook appends "pid url" lines to `loadedFile`. */
  function writeLoadHook(loadedFile: string): string {
    const hooks = path.join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  if (url.includes('/node_modules/libphonenumber-js/')) appendFileSync(${JSON.stringify(loadedFile)}, process.pid + ' ' + url + '\\n');
  return nextLoad(url, context);
}
`,
    );
    const register = path.join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    return register;
  }

  it('is not loaded by a started, idle daemon, and is by the first MAIL, so that the first RCPT is answered', async () => {
    const loadedFile = path.join(dir, 'loaded.txt');
    appendFileSync(loadedFile, '');
    const smtpPort = await freePort();
    const dataDir = path.join(dir, 'data');
    const daemon = await pool.start({
      dir,
      yaml: productionYaml({
        dataDir,
        smtpPort,
        httpPort: await freePort(),
        telnyxApiUrl: simulator.url,
        telnyxApiKey: API_KEY,
        telnyxPublicKey: simulator.publicKey,
      }),
      env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${writeLoadHook(loadedFile)}` },
    });
    const loadedByDaemon = () =>
      readFileSync(loadedFile, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith(`${daemon.pid} `));

    expect(loadedByDaemon()).toEqual([]);

    const smtp = await openSmtpDialogue(smtpPort);
    try {
      expect(await smtp.reply()).toMatch(/^220 /);
      expect(await smtp.command('EHLO client.example.com')).toMatch(/^250[- ]/);
      expect(await smtp.command('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
      expect(loadedByDaemon().some((line) => line.endsWith('/libphonenumber-js/min/index.js'))).toBe(true);
      expect(await smtp.command('RCPT TO:<12345@fax.example.com>')).toMatch(/^550 5\.1\.1 .*too few digits/);
      expect(await smtp.command('RCPT TO:<4165550100@fax.example.com>')).toMatch(/^550 5\.1\.1 .*in CA/);
      expect(await smtp.command('RCPT TO:<555-123-4567@fax.example.com>')).toMatch(/^250 /);
      expect(await smtp.command('QUIT')).toMatch(/^221 /);
    } finally {
      smtp.close();
    }
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/loadConfig.js';
import { pollMissedFaxes } from '../../src/inbound/pollMissedFaxes.js';
import { systemClock } from '../../src/lib/clock.js';
import { makeSilentLogger } from '../../src/log.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import type { JobStore } from '../../src/store/jobStore.js';
import { openStore } from '../../src/store/openStore.js';
import { makeTelnyxClient, type TelnyxClient } from '../../src/telnyx/client.js';

/*
 * The missed-fax poll lists the inbound faxes of the last day and records those no webhook told us about. One
 * entry of an unexpected shape in Telnyx's answer must cost only that entry, not the whole poll. Telnyx is the
 * simulator over HTTP; the store is a real SQLite file.
 */
describe('pollMissedFaxes', () => {
  let dir: string;
  let simulator: Simulator;
  let store: JobStore;
  let telnyx: TelnyxClient;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fb-poll-'));
    simulator = await startSimulator();
    store = await openStore(`sqlite:${path.join(dir, 'faxbridge.db')}`);
    telnyx = makeTelnyxClient({ apiUrl: simulator.url, apiKey: '' });
  });
  afterEach(async () => {
    await telnyx.close();
    await store.close();
    await simulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function deps() {
    const file = path.join(dir, 'faxbridge.yaml');
    writeFileSync(file, `data_dir: ${JSON.stringify(dir)}\n`);
    const { config } = loadConfig(file, {});
    return { config, store, clock: systemClock, log: makeSilentLogger(), telnyx };
  }

  it('records the readable faxes of a page that also holds an entry it cannot read', async () => {
    const to = '+15550001111';
    const [good] = simulator.seedFaxes({ to, from: '+15557654321', direction: 'inbound', count: 1 });
    const [odd] = simulator.seedFaxes({ to, from: '+15557654322', direction: 'inbound', count: 1 });
    simulator.injectResponses('GET /faxes', [
      { patchEntries: { match: { id: odd!.id }, set: { from: null } } },
    ]);

    expect(await pollMissedFaxes(deps())).toBe(1);

    expect(await store.getInboundFax(good!.id)).toMatchObject({
      status: 'received',
      from_number: '+15557654321',
      to_number: to,
    });
    expect(await store.getInboundFax(odd!.id)).toBeNull();
    expect(simulator.requests().filter((r) => r.path === '/v2/faxes' && r.injected)).toHaveLength(1);
  });
});

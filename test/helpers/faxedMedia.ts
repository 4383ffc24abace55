import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Simulator } from '../../src/simulator/index.js';
import { waitFor } from './testDaemon.js';

/**
 * The one fax sent since `before`, once the simulator has fetched its media (what Telnyx would transmit), and
 * that PDF fetched again from its media URL and saved as `dir/name` for poppler's tools.
 */
export async function faxedPdf(simulator: Simulator, before: number, dir: string, name: string) {
  const fax = await waitFor(
    () => {
      const sent = simulator.faxes().slice(before);
      return sent.length === 1 && sent[0]!.media?.sha256 ? sent[0]! : null;
    },
    30_000,
    'the fax media fetched',
  );
  const response = await fetch(fax.mediaUrl!);
  const path = join(dir, name);
  const bytes = Buffer.from(await response.arrayBuffer());
  writeFileSync(path, bytes);
  return { fax, path, bytes };
}

import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';

import { extractDocuments, type ExtractedMessage, type ExtractLimits } from './extractDocuments.js';
import { DEFAULT_MIN_LIFTED_BYTES, liftBase64Bodies } from './liftBase64Bodies.js';

/**
 * A message already whole in memory, read with its large base64 bodies lifted out (liftBase64Bodies.ts), and read
 * again the plain way when that reading cannot be trusted.
 *
 * The lifted reading is trusted only when mailparser gave every marker back, each as the whole content of a part
 * of the message itself. Then the parts around each marker are the parts around the body it stands for: the
 * reduced message differs from the original only inside the lifted bodies, whose lines (base64 characters, none
 * blank) mailsplit cannot take for a delimiter or a header's end. A marker left over means the scan saw the
 * message's structure otherwise than mailsplit did (an odd boundary, a delimiter only mailsplit accepts): the files
 * of that reading are removed and the original is read as it came. So the worst an odd message costs is a
 * second reading.
 */
export interface WholeMessageReading {
  message: ExtractedMessage;
  /** How many bodies were decoded ahead of mailparser: 0 when none was worth it, or the reading was redone. */
  liftedBodies: number;
}

export async function readWholeMessage(
  raw: Buffer,
  workDir: string,
  limits: Partial<ExtractLimits>,
  signal?: AbortSignal,
  minLiftedBytes = DEFAULT_MIN_LIFTED_BYTES,
): Promise<WholeMessageReading> {
  const lifted = liftBase64Bodies(raw, minLiftedBytes);
  if (lifted) {
    const count = lifted.bodies.count;
    const quick = await extractDocuments(
      Readable.from([lifted.message]),
      workDir,
      limits,
      signal,
      lifted.bodies,
    ).catch((error: unknown) => {
      // Stopped by the caller: no second reading. Refused: the plain reading gives the refusal in its own words.
      if (signal?.aborted) throw error;
      return null;
    });
    if (quick && lifted.bodies.count === 0) return { message: quick, liftedBodies: count };
    if (quick) await Promise.all(quick.documents.map((found) => rm(found.path, { force: true })));
  }
  const message = await extractDocuments(Readable.from([raw]), workDir, limits, signal);
  return { message, liftedBodies: 0 };
}

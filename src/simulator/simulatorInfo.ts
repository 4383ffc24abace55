/**
 * How `faxbridge simulate inbound`, a separate process, finds the running sandbox daemon's simulator: `run`
 * writes `<data_dir>/simulator.json` once the daemon is up and removes it on stop.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SimulatorInfo {
  /** `http://127.0.0.1:PORT`: the control endpoints (`POST /_sim/inbound`) live here, outside `/v2`. */
  origin: string;
  /** Where the simulator posts events: the daemon's `/webhooks/telnyx`. */
  webhookUrl: string;
  pid: number;
  startedAt: string;
}

export const SIMULATOR_INFO_FILE = 'simulator.json';

export function simulatorInfoPath(dataDir: string): string {
  return path.join(dataDir, SIMULATOR_INFO_FILE);
}

/** Written whole or not at all (temp file, then rename), so a reader never sees half a file. */
export async function writeSimulatorInfo(dataDir: string, info: SimulatorInfo): Promise<void> {
  const target = simulatorInfoPath(dataDir);
  const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, target);
}

export async function removeSimulatorInfo(dataDir: string): Promise<void> {
  await rm(simulatorInfoPath(dataDir), { force: true });
}

/** Null when there is no file or it is not ours (no origin). */
export async function readSimulatorInfo(dataDir: string): Promise<SimulatorInfo | null> {
  let text: string;
  try {
    text = await readFile(simulatorInfoPath(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as Partial<SimulatorInfo>;
    if (typeof parsed.origin !== 'string' || typeof parsed.webhookUrl !== 'string') return null;
    return parsed as SimulatorInfo;
  } catch {
    return null;
  }
}

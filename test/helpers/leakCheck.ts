/**
 * Suite-wide check that no test file leaves a handle open (style: "afterEach fails on leaked servers or
 * pools"). Runs as a vitest setup file: it notes what keeps the event loop alive before the file's tests, and
 * after the file's last afterAll it waits for closing sockets to finish closing, then fails the file if more
 * servers, sockets, child processes or timers are alive than before. A leak here is a test (or the code it
 * drives) that forgot a stop: it would keep a daemon's port, or keep `node` from exiting.
 */
import { afterAll, beforeAll } from 'vitest';

/**
 * Resource kinds a test can leak; the others (the worker's IPC pipes, stdio, fs requests in flight) are
 * vitest's. Timers are counted too, against a baseline that holds vitest's own: a leaked timer shows as one
 * `Timeout` more than before, though one that vitest happens to clear at the same moment can hide it.
 */
const WATCHED = new Set([
  'TCPServerWrap',
  'TCPWrap',
  'TCPSocketWrap',
  'PipeServerWrap',
  'ProcessWrap',
  'Timeout',
  'UDPWrap',
]);
/** Closing a socket or server completes on a later turn of the loop; wait this long before calling it a leak. */
const SETTLE_MS = 3000;

function countWatched(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

function excess(baseline: Map<string, number>): string[] {
  const leaked: string[] = [];
  for (const [kind, count] of countWatched()) {
    const extra = count - (baseline.get(kind) ?? 0);
    if (extra > 0) leaked.push(`${extra} × ${kind}`);
  }
  return leaked;
}

let baseline = new Map<string, number>();

beforeAll(() => {
  baseline = countWatched();
});

afterAll(async () => {
  const deadline = Date.now() + SETTLE_MS;
  let leaked = excess(baseline);
  while (leaked.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    leaked = excess(baseline);
  }
  if (leaked.length > 0) {
    throw new Error(
      `this test file left handles open: ${leaked.join(', ')}. Close every server, client, pool and timer ` +
        'it started (in afterAll/afterEach), or unref a timer that must outlive it.',
    );
  }
});

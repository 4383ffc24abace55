import { PerformanceObserver } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { MB } from './units.js';

/**
 * V8 heap settings for faxbridge's long-lived and memory-bound processes: the daemon (src/cli/daemonV8Flags.ts)
 * and the document sandbox's children (src/documents/sandbox/sandboxChild.ts). Set at run time, before the
 * process loads its libraries, so they hold however it was started, with no flag on any command line; both
 * change only what V8 does from then on (unlike `--max-semi-space-size`, read once when the heap is made).
 *
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial 1 MiB semi-spaces instead of doubling
 *   up to 16 MiB each while start-up allocates, pages that then stay resident for good (~30 MiB of an idle
 *   daemon's RSS, bench/idleRss.ts).
 * - `--optimize-for-size`: V8 lets the heap grow less past what is live before it collects. A 50 MB attachment
 *   streams through the daemon's SMTP and MIME path as ~200 MB of short-lived Buffers (socket reads,
 *   smtp-server's dot-unstuffing copies, base64 decoding); without this they pile up to ~65 MiB before a full
 *   collection frees them, and the daemon peaks at ~165 MiB instead of ~115 (bench/memory50mb.ts).
 *
 * Their cost under load is high: with them the daemon used 15.4-17.4 ms of CPU per accepted message, 11.7
 * without (bench/profileIngest.ts): V8's compilers hold back under `--optimize-for-size`, and a 1 MiB young
 * generation is collected every few hundred KB. So the daemon keeps them only while it starts (what start-up makes
 * resident is what an idle daemon keeps) and relaxes them once it is up (`relaxLeanHeap`, through
 * src/cli/daemonV8Flags.ts).
 */
export const LEAN_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--optimize-for-size'] as const;

/**
 * What the daemon runs with once it is up: V8's own compilers, and the old generation allowed to grow 100 % past
 * what is live before it is collected (V8's own rule under no heap limit allows up to four times). With 20 %, its
 * setting until the ninth session, the daemon used 6.7-7.6 ms of CPU per accepted message under a burst against
 * 4.9-5.6 with 100 % (bench/profileIngest.ts, bench/README.md ninth session).
 */
const RELAXED_HEAP_GROWTH_FLAG = '--heap-growing-percent=100';
export const RELAXED_HEAP_FLAGS = ['--no-optimize-for-size', RELAXED_HEAP_GROWTH_FLAG] as const;

/**
 * What the daemon runs with while a large document streams through it (keepHeapTightWhile): the old generation
 * may grow only 20 % past what is live before V8 collects it, and the stream's dead Buffers, which live outside
 * the heap, are collected with it before they pile up. With 100 % throughout, the 50 MB PDF's delivery (its media
 * fetch) peaked at 128-134 MiB on Node 24 instead of 117-122 (bench/memory50mb.ts).
 */
export const TIGHT_HEAP_FLAG = '--heap-growing-percent=20';

/** A document of this size or more, streamed through the daemon, keeps its heap tight (keepHeapTightWhile). */
const LARGE_STREAM_BYTES = 8 * MB;

// V8's flags belong to the whole process, so what they are set to now is the process's too: module state.
/** Whether relaxLeanHeap ran: only the daemon's process is kept tight while large documents stream. */
let relaxed = false;
/** Large documents streaming through the daemon now (keepHeapTightWhile). */
let tightWhile = 0;
/** Whether growHeapFreely last let the heap grow freely. */
let growingFreely = false;

/**
 * The size of the young generation (V8's `new_space`, as getHeapSpaceStatistics tells it) past which it stops
 * growing once the daemon is up. V8 would let it grow to 32 MiB (64 on Node 24): a stream of 50 MB through the
 * daemon (the media download of a large fax) takes it there and adds ~30 MiB of resident memory, which took a
 * 50 MB PDF's delivery past 150 MiB. With this cap it stays near 120 MiB; with 8 MiB, 131-141. Daemon CPU per
 * message, 300 messages (bench/profileIngest.ts): 15.4-17.4 ms lean, 14.8-15.2 relaxed with this cap, 13.8-14.1
 * with 8 MiB, 12.1-13.5 uncapped.
 */
export const YOUNG_GENERATION_CAP = 4 * 1024 * 1024;

export function useLeanHeap(extraFlags: readonly string[] = []): void {
  for (const flag of [...LEAN_HEAP_FLAGS, ...extraFlags]) setFlagsFromString(flag);
}

/**
 * How far past what is live a child's heap may grow before V8 collects it whole, while the child works on small
 * inputs only: to four times. V8's own rule scales with the heap limit, and under the limits our children run with
 * (256-576 MB) it allows only ~1.3-1.5 times, so a child with a few MB live collected its whole heap every few
 * messages: GC was 54 % of an intake sandbox child's busy time and 16 % of a reader's. The PDF check went from
 * 4.1-4.7 ms of CPU per message to 2.7-3.0, a reader from 6.9-7.9 to 6.2-7.1 (bench/README.md, ninth session).
 * What it costs is memory between collections: under a burst of small messages a reader peaks at 131-141 MiB
 * instead of ~100, a sandbox child at 84-86 instead of 69-74.
 */
export const QUICK_HEAP_GROWING_PERCENT = 300;

/**
 * For a process that works on inputs of every size (a document sandbox child): `--optimize-for-size` only while it
 * works on a large one. A 200 KB PDF's check took 6.1-6.6 ms of a child's CPU with it and 4.1-4.4 without
 * (bench/README.md, eighth session): its cost is V8's compilers holding back, paid on every small document, while
 * what it buys (the heap kept near what is live) only counts for large ones. The old generation grows freely while
 * it is off (growHeapFreely); the young generation stays as useLeanHeap left it.
 */
export function optimizeForSize(on: boolean): void {
  setFlagsFromString(on ? '--optimize-for-size' : '--no-optimize-for-size');
  growHeapFreely(!on);
}

/**
 * The old generation allowed to grow QUICK_HEAP_GROWING_PERCENT past what is live (on), or V8's own rule again
 * (off: the flag's 0 means "not set"), for a process whose inputs are small for now. V8 sets the next collection's
 * threshold at the end of each collection, so turning it off also collects at once: a large input then starts
 * under V8's rule, not under the threshold a burst of small ones left.
 */
export function growHeapFreely(on: boolean): void {
  if (on === growingFreely) return;
  growingFreely = on;
  setFlagsFromString(`--heap-growing-percent=${on ? QUICK_HEAP_GROWING_PERCENT : 0}`);
  if (!on) collectNow();
}

/**
 * Lean while starting, fast once up; the young generation grows only up to YOUNG_GENERATION_CAP. What starting
 * left behind (configuration, migrations, module loading) is collected first, at once, as fully as V8 can
 * (collectAllAvailableGarbage): V8's memory reducer would only get to it ~8 s after start, and less thoroughly.
 */
export function relaxLeanHeap(): void {
  collectAllAvailableGarbage();
  for (const flag of RELAXED_HEAP_FLAGS) setFlagsFromString(flag);
  capYoungGeneration(YOUNG_GENERATION_CAP);
  relaxed = true;
}

/**
 * The daemon's heap kept tight (TIGHT_HEAP_FLAG) from now until `stream` closes, when the document it carries is of
 * LARGE_STREAM_BYTES or more (`bytes`), or of unknown size (undefined, NaN): every document the daemon serves over
 * HTTP (http/koaBodies.ts), copies to a file (blobs/copyDocument.ts) or uploads to S3, and a received fax's
 * download. Called where the bytes flow, not where a file is only opened to see that it is there. The first such
 * stream also collects at once: V8 sets the next collection's threshold at the end of each collection, so without
 * it the threshold the relaxed setting left would hold for this stream's first tens of MB. Only in a daemon that
 * relaxLeanHeap relaxed (the CLI's commands and tests keep V8's settings).
 */
export function keepHeapTightWhile(stream: Readable, bytes: number | undefined): void {
  if (!relaxed || stream.closed || (bytes !== undefined && bytes < LARGE_STREAM_BYTES)) return;
  tightWhile += 1;
  if (tightWhile === 1) {
    setFlagsFromString(TIGHT_HEAP_FLAG);
    collectNow();
  }
  stream.once('close', () => {
    tightWhile -= 1;
    if (tightWhile === 0) setFlagsFromString(RELAXED_HEAP_GROWTH_FLAG);
  });
}

/** Given at run time only, once the daemon is up (collectNow). */
export const EXPOSE_GC_FLAG = '--expose-gc';

/**
 * One young-generation collection (a scavenge: well under a millisecond with the capped young generation). For a
 * thread that passes large Buffers on without allocating much itself: V8 collects when its heap fills, and lets
 * the memory outside the heap that dead Buffers hold grow by 64 MB before it collects for that alone.
 */
export function collectYoungGeneration(): void {
  gcFunction()({ type: 'minor' });
}

interface GcOptions {
  type: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: 'regular' | 'last-resort';
}
let exposedGc: ((options?: GcOptions) => void) | null = null;

function gcFunction(): (options?: GcOptions) => void {
  if (!exposedGc) {
    setFlagsFromString(EXPOSE_GC_FLAG);
    exposedGc = runInNewContext('gc') as (options?: GcOptions) => void;
  }
  return exposedGc;
}

/**
 * One full, synchronous collection. `--expose-gc` set at run time gives `gc` to contexts made from then on (not
 * to the main one, nor to any code of ours or a library's), so the function is taken from a context of its own.
 */
function collectNow(): void {
  gcFunction()();
}

/**
 * V8 12 (Node 22) and later read options given to `gc`; V8 11 (Node 20) reads any argument as "the young
 * generation only", so there a full collection takes none.
 */
const GC_READS_OPTIONS = Number(process.versions.v8.split('.')[0]) >= 12;

/**
 * The fullest collection V8 has, its "last resort": full collections until nothing more is freed, which also drop
 * the compiled code of functions that have not run lately (start-up code) and compact the heap, so whole pages go
 * back to the system. For an idle daemon on Node 24 this is ~6 MiB less resident memory than one full collection
 * (bench/README.md, tenth session); it takes ~30 ms, once (two full collections, `--trace-gc`). On Node 20, one
 * full collection.
 */
function collectAllAvailableGarbage(): void {
  if (GC_READS_OPTIONS) gcFunction()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  else collectNow();
}

/**
 * V8 has no run-time setting for the young generation's largest size, only for how fast it grows: after each
 * collection it may double (factor 2) while under `capBytes`, and stays as it is (factor 1) from there. Observers
 * are told of a collection after the fact, so it may overshoot by a doubling (Node 24's V8 also grows in larger
 * steps: 8 MiB seen with this cap, docs/dependencies.md).
 */
function capYoungGeneration(capBytes: number): void {
  const observer = new PerformanceObserver(() => {
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    const full = young !== undefined && young.space_size >= capBytes;
    setFlagsFromString(`--semi-space-growth-factor=${full ? 1 : 2}`);
  });
  observer.observe({ entryTypes: ['gc'] });
}

import { setFlagsFromString } from 'node:v8';

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
 * Their cost under load is high: the daemon used ~30 % more CPU per accepted message with them (11.7 against
 * 15.4-17.4 ms, bench/profileIngest.ts), the young generation collected every few hundred KB and V8's compilers
 * held back. So the daemon keeps them only while it starts (what start-up makes resident is what an idle daemon
 * keeps) and goes back to V8's defaults once it is up (`relaxLeanHeap`, src/cli/start.ts).
 */
export const LEAN_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--optimize-for-size'] as const;

/** V8's own defaults for the lean heap's flags (--semi-space-growth-factor is 2 on Node 20 and 24). */
export const DEFAULT_HEAP_FLAGS = ['--semi-space-growth-factor=2', '--no-optimize-for-size'] as const;

export function useLeanHeap(extraFlags: readonly string[] = []): void {
  for (const flag of [...LEAN_HEAP_FLAGS, ...extraFlags]) setFlagsFromString(flag);
}

/**
 * Back to V8's defaults: the young generation may grow again (up to 16 MiB a semi-space) and the compilers
 * optimise as usual. What the heap grows to under load may stay resident after it; bench/idleRss.ts measures
 * the daemon before any mail, and a 50 MB PDF still peaks under 150 MiB (bench/memory50mb.ts).
 */
export function relaxLeanHeap(): void {
  for (const flag of DEFAULT_HEAP_FLAGS) setFlagsFromString(flag);
}

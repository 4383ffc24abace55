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
 * Their cost on the accept path, daemon CPU per message: none seen for the first, 3-10 % for the second, on a
 * busy machine (bench/README.md, "Idle RSS and the 50 MB PDF").
 */
export const LEAN_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--optimize-for-size'] as const;

export function useLeanHeap(extraFlags: readonly string[] = []): void {
  for (const flag of [...LEAN_HEAP_FLAGS, ...extraFlags]) setFlagsFromString(flag);
}

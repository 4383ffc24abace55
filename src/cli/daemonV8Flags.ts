import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the daemon's process, applied by `faxbridge start` before the daemon's modules load, so they
 * hold however the process was started (`npm start`, the `faxbridge` bin, the container's ENTRYPOINT, a test's
 * `node dist/src/cli.js start`) without a flag on any command line. Both only change what V8 does from then on,
 * which is why they can be set at run time (unlike `--max-semi-space-size`, read once when the heap is made):
 *
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial 1 MiB semi-spaces instead of
 *   doubling up to 16 MiB each while start-up allocates, pages that then stay resident for good (~30 MiB of an
 *   idle daemon's RSS, bench/idleRss.ts). The daemon's allocations are short-lived per message and webhook; the
 *   cost is more frequent (cheap) scavenges, measured in bench/README.md ("Idle memory").
 * - `--liftoff-only`: undici parses HTTP with llhttp compiled to WebAssembly; V8 otherwise re-compiles it with
 *   TurboFan in the background after the first Telnyx call, which takes ~35 MiB for a moment and leaves ~15 MiB
 *   of RSS behind. Liftoff's code is slower, but llhttp only reads headers and chunk sizes of a few small API
 *   answers and media downloads. The HTTP server (Koa) uses Node's native parser, not this one.
 * - `--optimize-for-size`: V8 lets the heap grow less past what is live before it collects. A 50 MB attachment
 *   streams through the SMTP and MIME path as ~200 MB of short-lived Buffers (socket reads, smtp-server's
 *   dot-unstuffing copies, base64 decoding); without this they pile up to ~65 MiB before a full collection frees
 *   them, and the daemon peaks at ~165 MiB instead of ~115 (bench/memory50mb.ts). Costs about a tenth more CPU
 *   per message on the accept path (bench/README.md, "Idle memory").
 */
export const DAEMON_V8_FLAGS = [
  '--semi-space-growth-factor=1',
  '--liftoff-only',
  '--optimize-for-size',
] as const;

export function applyDaemonV8Flags(): void {
  for (const flag of DAEMON_V8_FLAGS) setFlagsFromString(flag);
}

import { useLeanHeap } from '../lib/leanHeap.js';

/**
 * V8 settings for the daemon's process, applied by `faxbridge start` before the daemon's modules load, so they
 * hold however the process was started (`npm start`, the `faxbridge` bin, the container's ENTRYPOINT, a test's
 * `node dist/src/cli.js start`): the lean heap of src/lib/leanHeap.ts, and
 *
 * - `--liftoff-only`: undici parses HTTP with llhttp compiled to WebAssembly; V8 otherwise re-compiles it with
 *   TurboFan in the background after the first Telnyx call, which takes ~35 MiB for a moment and leaves ~15 MiB
 *   of RSS behind. Liftoff's code is slower, but llhttp only reads headers and chunk sizes of a few small API
 *   answers and media downloads. The HTTP server (Koa) uses Node's native parser, not this one. Not set in the
 *   sandbox's children, whose image decoders may use WebAssembly in earnest.
 */
export const DAEMON_ONLY_V8_FLAGS = ['--liftoff-only'] as const;

export function applyDaemonV8Flags(): void {
  useLeanHeap(DAEMON_ONLY_V8_FLAGS);
}

import { setFlagsFromString } from 'node:v8';

import { relaxLeanHeap, useLeanHeap } from '../lib/leanHeap.js';

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

/**
 * While the daemon starts, and only then: `--no-turbofan`. Start-up code (the configuration's parsing, migrations,
 * module loading) runs hot for a moment and never again, yet V8's optimizing compiler would compile it, and the
 * pages of the compiler's own code in the node binary that this touches stay resident: ~5 MiB of an idle daemon on
 * Node 24 (docs/dependencies.md, "V8 (Node's JavaScript engine): heap settings"; bench/README.md, tenth session).
 * `relaxDaemonV8Flags` turns it back on once the daemon is up: what runs hot from then on is optimized as usual
 * (test/unit/cli.daemonV8Flags.test.ts checks that it is, on Node 20 and 24).
 */
export const STARTING_ONLY_V8_FLAGS = ['--no-turbofan'] as const;
export const UP_V8_FLAGS = ['--turbofan'] as const;

/** The node flags by which an operator decides on the compilers themselves (say, around a V8 bug): left alone. */
const OPERATOR_COMPILER_FLAG = /^--(no-)?(turbofan|opt|jitless)(=|$)/;

export function applyDaemonV8Flags(): void {
  useLeanHeap([...DAEMON_ONLY_V8_FLAGS, ...(operatorChoseCompilers() ? [] : STARTING_ONLY_V8_FLAGS)]);
}

/** Once the daemon is up: the optimizing compiler back, and the heap relaxed (src/lib/leanHeap.ts). */
export function relaxDaemonV8Flags(): void {
  if (!operatorChoseCompilers()) for (const flag of UP_V8_FLAGS) setFlagsFromString(flag);
  relaxLeanHeap();
}

function operatorChoseCompilers(): boolean {
  const nodeOptions = (process.env.NODE_OPTIONS ?? '').split(/\s+/);
  return [...process.execArgv, ...nodeOptions].some((flag) => OPERATOR_COMPILER_FLAG.test(flag));
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { DAEMON_ONLY_V8_FLAGS, STARTING_ONLY_V8_FLAGS, UP_V8_FLAGS } from '../../src/cli/daemonV8Flags.js';
import {
  EXPOSE_GC_FLAG,
  LEAN_HEAP_FLAGS,
  QUICK_HEAP_GROWING_PERCENT,
  RELAXED_HEAP_FLAGS,
  TIGHT_HEAP_FLAG,
  YOUNG_GENERATION_CAP,
} from '../../src/lib/leanHeap.js';

/*
 * The V8 flags faxbridge sets (src/lib/leanHeap.ts, src/cli/daemonV8Flags.ts) are V8's, not Node's, and V8 drops
 * or renames flags between releases. Set at run time, an unknown flag is not an error: V8 prints "unrecognized
 * flag" to stderr and the process goes on without it, so a Node upgrade (the image runs Node 24) would silently
 * undo the memory they save. Both ways of setting them must be silent on the Node that runs the tests.
 */
const FLAGS = [
  ...LEAN_HEAP_FLAGS,
  ...DAEMON_ONLY_V8_FLAGS,
  ...STARTING_ONLY_V8_FLAGS,
  ...UP_V8_FLAGS,
  ...RELAXED_HEAP_FLAGS,
  TIGHT_HEAP_FLAG,
  // What readers and sandbox children on small inputs set (growHeapFreely).
  `--heap-growing-percent=${QUICK_HEAP_GROWING_PERCENT}`,
  EXPOSE_GC_FLAG,
];
const run = promisify(execFile);

describe('the daemon’s V8 flags', () => {
  it('are all known to this Node: on the command line it starts and says nothing', async () => {
    const { stderr } = await run(process.execPath, [...FLAGS, '-e', '0']);
    expect(stderr).toBe('');
  });

  it('once relaxed, let the young generation grow only up to its cap', async () => {
    // Objects that live a little while (a rolling window), as the daemon's Buffers and parsers do under load: V8
    // grows the young generation for them, to 32 MiB when nothing holds it back.
    const compiled = new URL('../../dist/src/lib/leanHeap.js', import.meta.url).href;
    const youngest = async (setUp: string): Promise<number> => {
      const script = `
        import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
        import { useLeanHeap, relaxLeanHeap } from ${JSON.stringify(compiled)};
        useLeanHeap();
        ${setUp}
        const window = new Array(20000);
        let largest = 0;
        for (let round = 0; round < 400; round++) {
          for (let i = 0; i < 20000; i++) window[(round * 20000 + i) % window.length] = { i, text: 'x' + i };
          await new Promise((resolve) => setImmediate(resolve));
          const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
          largest = Math.max(largest, young.space_size);
        }
        console.log(largest);`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
      return Number(stdout.trim());
    };
    const capped = await youngest('relaxLeanHeap();');
    const uncapped = await youngest(
      "setFlagsFromString('--no-optimize-for-size'); setFlagsFromString('--semi-space-growth-factor=2');",
    );
    // The cap is seen after a collection, so it may be passed by a doubling or two (Node 24's V8 sizes the young
    // generation in larger steps than Node 20's: 8 MiB capped against 64 uncapped, where Node 20 shows 4 and 32).
    expect(capped).toBeLessThanOrEqual(4 * YOUNG_GENERATION_CAP);
    expect(capped).toBeLessThanOrEqual(uncapped / 4);
  });

  it('are set at run time, as `faxbridge start` does, without a word on stderr', async () => {
    const script = `import { applyDaemonV8Flags, relaxDaemonV8Flags } from ${JSON.stringify(COMPILED_FLAGS)};
      applyDaemonV8Flags();
      relaxDaemonV8Flags();`;
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(stderr).toBe('');
  });

  it('give V8 its optimizing compiler back once the daemon is up', async () => {
    // A hot function, optimized on its next call if TurboFan may run (V8's test functions, --allow-natives-syntax):
    // a run-time flag V8 stopped reading would leave the daemon without its optimizing compiler for good.
    const turboFanned = async (setUp: string, nodeFlags: string[] = []): Promise<boolean> => {
      const script = `import { applyDaemonV8Flags, relaxDaemonV8Flags } from ${JSON.stringify(COMPILED_FLAGS)};
        ${setUp}
        function hot(n) { let sum = 0; for (let i = 0; i < n; i++) sum += i * 3; return sum; }
        %PrepareFunctionForOptimization(hot);
        hot(100); hot(100);
        %OptimizeFunctionOnNextCall(hot);
        hot(100);
        console.log(%GetOptimizationStatus(hot));`;
      const { stdout } = await run(process.execPath, [
        ...nodeFlags,
        '--allow-natives-syntax',
        '--input-type=module',
        '-e',
        script,
      ]);
      // V8's OptimizationStatus: bit 6 is "optimized by TurboFan" (src/runtime/runtime.h, V8 11 to 13).
      return (Number(stdout.trim()) & (1 << 6)) !== 0;
    };
    expect(await turboFanned('applyDaemonV8Flags();')).toBe(false);
    expect(await turboFanned('applyDaemonV8Flags(); relaxDaemonV8Flags();')).toBe(true);
    // An operator who turned the compiler off (say, around a V8 bug) keeps it off.
    expect(await turboFanned('applyDaemonV8Flags(); relaxDaemonV8Flags();', ['--no-turbofan'])).toBe(false);
  });
});

/** The compiled module `faxbridge start` loads (`npm run build` first). */
const COMPILED_FLAGS = new URL('../../dist/src/cli/daemonV8Flags.js', import.meta.url).href;

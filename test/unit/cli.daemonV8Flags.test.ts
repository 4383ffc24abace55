import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { DAEMON_ONLY_V8_FLAGS } from '../../src/cli/daemonV8Flags.js';
import { DEFAULT_HEAP_FLAGS, LEAN_HEAP_FLAGS } from '../../src/lib/leanHeap.js';

/*
 * The V8 flags faxbridge sets (src/lib/leanHeap.ts, src/cli/daemonV8Flags.ts) are V8's, not Node's, and V8 drops
 * or renames flags between releases. Set at run time, an unknown flag is not an error: V8 prints "unrecognized
 * flag" to stderr and the process goes on without it, so a Node upgrade (the image runs Node 24) would silently
 * undo the memory they save. Both ways of setting them must be silent on the Node that runs the tests.
 */
const FLAGS = [...LEAN_HEAP_FLAGS, ...DAEMON_ONLY_V8_FLAGS, ...DEFAULT_HEAP_FLAGS];
const run = promisify(execFile);

describe('the daemon’s V8 flags', () => {
  it('are all known to this Node: on the command line it starts and says nothing', async () => {
    const { stderr } = await run(process.execPath, [...FLAGS, '-e', '0']);
    expect(stderr).toBe('');
  });

  it('are undone once the daemon is up by setting what this Node’s V8 has by default', async () => {
    const { stdout } = await run(process.execPath, ['--v8-options'], { maxBuffer: 16 * 1024 * 1024 });
    for (const flag of DEFAULT_HEAP_FLAGS) {
      const name = flag.replace(/^--(no-)?/, '').replace(/=.*/, '');
      const described = new RegExp(`^\\s+--${name} \\(.*\\)\\n\\s+type: \\w+\\s+default: (\\S+)`, 'm').exec(
        stdout,
      );
      expect(described?.[1], name).toBe(flag);
    }
  });

  it('are set at run time, as `faxbridge start` does, without a word on stderr', async () => {
    // The compiled module `faxbridge start` loads (`npm run build` first).
    const compiled = new URL('../../dist/src/cli/daemonV8Flags.js', import.meta.url).href;
    const script = `import { applyDaemonV8Flags } from ${JSON.stringify(compiled)}; applyDaemonV8Flags();`;
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(stderr).toBe('');
  });
});

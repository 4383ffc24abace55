import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { limitedArgs, PRLIMIT } from '../../src/lib/limitedCommand.js';
import { MB } from '../../src/lib/units.js';

/*
 * The limits a stranger's file is drawn under (pdftoppm for receipts' previews and the console's pages): what the
 * started process itself sees as its address-space and CPU limits, read with the shell's own `ulimit`.
 */
describe('limitedArgs', () => {
  it('runs the command with the address space and CPU time it names, as the command sees them', () => {
    const args = limitedArgs('sh', ['-c', 'ulimit -v; ulimit -t'], { memoryBytes: 512 * MB, cpuSeconds: 15 });
    const result = spawnSync(PRLIMIT, args, { encoding: 'utf8' });
    expect(result.status).toBe(0);
    // ulimit -v is in KiB.
    expect(result.stdout.trim().split('\n')).toEqual([String((512 * MB) / 1024), '15']);
  });

  it('a command over its memory limit fails instead of taking the machine', () => {
    // 64 MiB of address space cannot hold a node process (it reserves far more at start).
    const args = limitedArgs(process.execPath, ['-e', 'console.log("ran")'], {
      memoryBytes: 64 * MB,
      cpuSeconds: 5,
    });
    const result = spawnSync(PRLIMIT, args, { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout).not.toContain('ran');
  });
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { makeDocumentSandbox } from '../../src/documents/sandbox/documentSandbox.js';
import { MB, SECOND } from '../../src/lib/units.js';
import { makePdf, twoLayerObjectStreamPdf } from '../helpers/pdfFixtures.js';

/*
 * The sandbox's own limits, the backstop behind the structure check: with the check's limits lifted, a bomb
 * reaches pdf-lib inside the child, and the child is killed at its memory or time limit while this process
 * carries on. Runs the compiled child from dist/ (`npm run build` first).
 */

/** High enough that the structure check lets the 2 GB object stream through to pdf-lib. */
const NO_STRUCTURE_LIMITS = {
  maxObjectStreamBytes: 8192 * MB,
  maxStreamBytes: 8192 * MB,
  maxInflatedBytes: 8192 * MB,
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxbridge-sandbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(bytes: Buffer): Promise<string> {
  const path = join(dir, `doc-${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(path, bytes);
  return path;
}

describe('document sandbox', () => {
  it('runs a task in a child process and returns its answer', async () => {
    const sandbox = makeDocumentSandbox();
    const outcome = await sandbox.run('inspectPdf', { path: await fileWith(await makePdf(4)) });
    expect(outcome).toEqual({ ok: true, value: { kind: 'pages', pages: 4 } });
  });

  it('kills a child past its memory limit, counting memory outside the heap', async () => {
    const sandbox = makeDocumentSandbox({ limits: { memoryBytes: 256 * MB, timeMs: 60 * SECOND } });
    const path = await fileWith(await twoLayerObjectStreamPdf());
    const before = process.memoryUsage().rss;
    const outcome = await sandbox.run('inspectPdf', { path, structureLimits: NO_STRUCTURE_LIMITS });
    expect(outcome).toMatchObject({ ok: false, limit: 'memory' });
    // The inflating happened in the child: this process did not grow by anything like it.
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * MB);
  });

  it('kills a child past its time limit', async () => {
    const sandbox = makeDocumentSandbox({ limits: { memoryBytes: 4096 * MB, timeMs: 300 } });
    const path = await fileWith(await twoLayerObjectStreamPdf());
    const outcome = await sandbox.run('inspectPdf', { path, structureLimits: NO_STRUCTURE_LIMITS });
    expect(outcome).toMatchObject({ ok: false, limit: 'time' });
  });

  it('runs at most `concurrency` children at once, and queues the rest', async () => {
    const sandbox = makeDocumentSandbox({ concurrency: 1 });
    const path = await fileWith(await makePdf(1));
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        sandbox.run('inspectPdf', { path }).then((outcome) => {
          expect(outcome.ok).toBe(true);
          order.push(n);
        }),
      ),
    );
    expect(order).toEqual([1, 2, 3]);
  });

  it('reuses a child for PDF tasks, never one that hit a limit, and ends idle children when asked', async () => {
    const sandbox = makeDocumentSandbox({
      concurrency: 1,
      limits: { memoryBytes: 256 * MB, timeMs: 60 * SECOND },
    });
    const good = await fileWith(await makePdf(2));
    // Earlier tests' sandboxes may still have idle children; only new ones are this sandbox's.
    const ours = await childrenStartedFromNow();
    try {
      const pids = new Set<number>();
      for (let run = 0; run < 4; run += 1) {
        expect(await sandbox.run('inspectPdf', { path: good })).toEqual({
          ok: true,
          value: { kind: 'pages', pages: 2 },
        });
        for (const pid of await ours()) pids.add(pid);
      }
      // Four tasks, one child: the same process answered each time and is now idle.
      expect(pids.size).toBe(1);
      const [first] = pids;

      const bomb = await fileWith(await twoLayerObjectStreamPdf());
      const killed = await sandbox.run('inspectPdf', { path: bomb, structureLimits: NO_STRUCTURE_LIMITS });
      expect(killed).toMatchObject({ ok: false, limit: 'memory' });
      // The bomb ran in the idle child, which was killed; the next task gets a new one and is not disturbed.
      expect(await sandbox.run('inspectPdf', { path: good })).toMatchObject({ ok: true });
      const after = await ours();
      expect(after).toHaveLength(1);
      expect(after).not.toContain(first);

      // An idle child killed from outside (the OOM killer, an operator) is never handed the next document.
      process.kill(after[0]!, 'SIGKILL');
      await expect.poll(ours, { timeout: 5000 }).toEqual([]);
      expect(await sandbox.run('inspectPdf', { path: good })).toMatchObject({ ok: true });
    } finally {
      sandbox.closeIdle();
    }
    await expect.poll(ours, { timeout: 5000 }).toEqual([]);
  });
});

describe('a child lost from outside', () => {
  it('is told apart from a document that failed: lost, not a limit, so the caller can try again later', async () => {
    const sandbox = makeDocumentSandbox({
      concurrency: 1,
      limits: { memoryBytes: 4096 * MB, timeMs: 60 * SECOND },
    });
    const ours = await childrenStartedFromNow();
    const bomb = await fileWith(await twoLayerObjectStreamPdf());
    const running = sandbox.run('inspectPdf', { path: bomb, structureLimits: NO_STRUCTURE_LIMITS });
    // The OOM killer, or an operator: the child goes while it works, without a word.
    let pid: number | undefined;
    await expect
      .poll(async () => (pid = (await ours())[0]), {
        timeout: 10_000,
      })
      .toBeDefined();
    process.kill(pid!, 'SIGKILL');
    expect(await running).toMatchObject({ ok: false, limit: 'crash', lost: true });
    sandbox.closeIdle();
  });
});

describe('background work', () => {
  it('never holds up a check someone waits on: intake has its own slots, background children run niced', async () => {
    const sandbox = makeDocumentSandbox({
      concurrency: 1,
      backgroundConcurrency: 1,
      limits: { memoryBytes: 256 * MB, timeMs: 60 * SECOND },
    });
    const good = await fileWith(await makePdf(2));
    const ours = await childrenStartedFromNow();
    try {
      // A background task leaves its child idle in the pool: the only child of ours so far.
      expect(await sandbox.run('inspectPdf', { path: good }, { priority: 'later' })).toMatchObject({
        ok: true,
      });
      const [background] = await ours();
      expect(background).toBeDefined();
      expect(niceOf(background!)).toBe(10);

      // Stopped, it takes the next background task and sits on the background lane's only slot: a build that
      // takes as long as it likes.
      process.kill(background!, 'SIGSTOP');
      const settled: string[] = [];
      const stuck = sandbox.run('inspectPdf', { path: good }, { priority: 'later' });
      const queued = sandbox.run('inspectPdf', { path: good }, { priority: 'later' });
      void stuck.then(() => settled.push('stuck'));
      void queued.then(() => settled.push('queued'));

      // A sender's check is answered meanwhile, in a child of its own at normal priority.
      expect(await sandbox.run('inspectPdf', { path: good })).toEqual({
        ok: true,
        value: { kind: 'pages', pages: 2 },
      });
      expect(settled).toEqual([]);
      const intake = (await ours()).filter((pid) => pid !== background);
      expect(intake).toHaveLength(1);
      expect(niceOf(intake[0]!)).toBe(0);

      // The background work is only delayed: its lost child is replaced (niced too) and both tasks end well.
      process.kill(background!, 'SIGKILL');
      expect(await stuck).toMatchObject({ ok: true });
      expect(await queued).toMatchObject({ ok: true });
      const now = (await ours()).filter((pid) => !intake.includes(pid));
      expect(now.map(niceOf)).toEqual([10]);
    } finally {
      sandbox.closeIdle();
    }
    await expect.poll(ours, { timeout: 5000 }).toEqual([]);
  });
});

describe('the time limit of background work', () => {
  /** A sandbox with one background slot whose child is warm (node and pdf-lib started): its pid and a good PDF. */
  async function warmBackground(memoryBytes: number) {
    const sandbox = makeDocumentSandbox({
      backgroundConcurrency: 1,
      limits: { memoryBytes, timeMs: 60 * SECOND },
    });
    const good = await fileWith(await makePdf(2));
    const ours = await childrenStartedFromNow();
    // Warm first: a new child's start (node, pdf-lib) alone would use a budget of a few hundred ms of CPU.
    expect(await sandbox.run('inspectPdf', { path: good }, { priority: 'later' })).toMatchObject({
      ok: true,
    });
    const [child] = await ours();
    expect(child).toBeDefined();
    return { sandbox, good, child: child! };
  }

  it('counts the CPU a niced child used, not the time it waited for the CPU', async () => {
    const { sandbox, good, child } = await warmBackground(256 * MB);
    try {
      // Stopped: as if intake kept both cores busy for longer than its limit.
      process.kill(child, 'SIGSTOP');
      const waiting = sandbox.run(
        'inspectPdf',
        { path: good },
        { priority: 'later', limits: { memoryBytes: 256 * MB, timeMs: 400 } },
      );
      await new Promise((resolve) => setTimeout(resolve, 1200));
      process.kill(child, 'SIGCONT');
      expect(await waiting).toEqual({ ok: true, value: { kind: 'pages', pages: 2 } });
    } finally {
      sandbox.closeIdle();
    }
  });

  it('ends a niced child kept waiting past the backstop as lost (try later), never as too long', async () => {
    const { sandbox, good, child } = await warmBackground(256 * MB);
    try {
      // Stopped: it gets no CPU at all, as if intake kept both cores busy past the backstop (10 × 200 ms).
      process.kill(child, 'SIGSTOP');
      const outcome = await sandbox.run(
        'inspectPdf',
        { path: good },
        { priority: 'later', limits: { memoryBytes: 256 * MB, timeMs: 200 } },
      );
      // Not retried at once in a new child either: that one would have finished, and the machine is as busy.
      expect(outcome).toMatchObject({ ok: false, limit: 'crash', lost: true });
      expect(outcome.ok || outcome.detail).toMatch(/not done after 2 s in all.*busy/);
    } finally {
      sandbox.closeIdle();
    }
  });

  it('still ends a niced child that works past its limit, on the CPU clock', async () => {
    const { sandbox, child } = await warmBackground(4096 * MB);
    try {
      const path = await fileWith(await twoLayerObjectStreamPdf());
      const outcome = await sandbox.run(
        'inspectPdf',
        { path, structureLimits: NO_STRUCTURE_LIMITS },
        { priority: 'later', limits: { memoryBytes: 4096 * MB, timeMs: 300 } },
      );
      // The CPU limit fired (the backstop, 3 s of waiting, would have said so and been `lost`), in the warm
      // child, which is gone.
      expect(outcome).toEqual({ ok: false, limit: 'time', detail: 'over 0.3 s of CPU' });
      expect(await childPids()).not.toContain(child);
    } finally {
      sandbox.closeIdle();
    }
  });
});

/** The niceness of a process: field 19 of /proc/PID/stat (counted after the command name's closing bracket). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/**
 * Lists the sandbox children started from now on: earlier tests' sandboxes may still have idle children, and only
 * new ones are the test's own.
 */
async function childrenStartedFromNow(): Promise<() => Promise<number[]>> {
  const others = new Set(await childPids());
  return async () => (await childPids()).filter((pid) => !others.has(pid));
}

/** The live sandbox children of this process (found by their entry script: Node 24 names its main thread). */
async function childPids(): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', [
    '-o',
    'pid=,stat=,args=',
    '--ppid',
    String(process.pid),
  ]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(
      ([pid, stat, ...args]) =>
        pid && !stat?.startsWith('Z') && args.some((arg) => arg.endsWith('sandboxChild.js')),
    )
    .map(([pid]) => Number(pid));
}

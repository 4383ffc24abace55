import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import Database from 'better-sqlite3';

import { loadConfig } from '../src/config/loadConfig.js';
import { startDaemon } from '../src/daemon.js';
import { hashPassword } from '../src/lib/passwordHash.js';
import { makeSilentLogger } from '../src/log.js';
import { startSimulator } from '../src/simulator/index.js';
import { openStore } from '../src/store/openStore.js';
import { adminQuery, postgresReachable, withPostgres } from '../test/helpers/postgres.js';
import { describeMachine, waitForIdleMachine } from './lib/machine.js';
import { markdownTable, percentile, round } from './lib/stats.js';

/*
 * The web console's jobs page with 100,000 jobs in the store, p95 under 200 ms on SQLite and PostgreSQL.
 * The jobs are written straight into a migrated database (the daemon's own intake would take minutes), then a
 * real daemon serves /console/jobs to a signed-in admin over HTTP, and each variant of the page is fetched
 * `--requests` times one after the other: the newest page, a page 20 pages deep (following the "older" links),
 * a status filter, a number prefix, one sender's faxes (what a `user` sees), and one day.
 *
 * Usage: npm run build && node dist/bench/consoleJobs.js [--jobs 100000] [--requests 200] [--json FILE]
 */

const SENDERS = 40;
const PASSWORD = 'bench-password';

interface Variant {
  name: string;
  path: (base: string) => Promise<string> | string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '100000' },
      requests: { type: 'string', default: '200' },
      json: { type: 'string' },
    },
  });
  const jobs = Number(values.jobs);
  const requests = Number(values.requests);
  const results: Array<Record<string, string | number>> = [];
  const dialects: Array<'sqlite' | 'postgres'> = ['sqlite'];
  if (await postgresReachable()) dialects.push('postgres');
  else console.log('!! PostgreSQL not reachable: SQLite only');

  for (const dialect of dialects) {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-bench-console-'));
    const pg = dialect === 'postgres' ? await withPostgres() : null;
    const databaseUrl = pg ? pg.url : `sqlite:${path.join(dir, 'faxbridge.db')}`;
    try {
      const seeded = performance.now();
      await seed(dialect, databaseUrl, pg?.schema ?? null, jobs);
      console.log(`${dialect}: ${jobs} jobs written in ${round((performance.now() - seeded) / 1000)} s`);
      for (const row of await measure(dialect, dir, databaseUrl, requests)) results.push(row);
    } finally {
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  console.log(
    markdownTable([
      ['store', 'page', 'p50 ms', 'p95 ms', 'max ms', 'rows'],
      ...results.map((r) => [r.store!, r.page!, r.p50!, r.p95!, r.max!, r.rows!]),
    ]),
  );
  if (values.json)
    writeFileSync(values.json, JSON.stringify({ machine: describeMachine(), results }, null, 2));
}

/** Migrates through the store, then writes `count` finished jobs (no worker picks them up) in one go. */
async function seed(dialect: 'sqlite' | 'postgres', url: string, schema: string | null, count: number) {
  await (await openStore(url)).close();
  const now = Date.now();
  const span = 90 * 24 * 3600 * 1000;
  const job = (i: number) => {
    const status = i % 20 === 0 ? 'failed' : i % 33 === 0 ? 'canceled' : 'delivered';
    const created = now - Math.floor((span * (count - i)) / count);
    return {
      id: `fx_bench${String(i).padStart(8, '0')}`,
      message: `msg_bench${String(Math.floor(i / 100)).padStart(6, '0')}`,
      to: `+1555${String(1_000_000 + ((i * 7919) % 9_000_000)).padStart(7, '0')}`,
      sender: `user${i % SENDERS}@example.com`,
      status,
      created,
    };
  };
  if (dialect === 'sqlite') {
    const db = new Database(url.slice('sqlite:'.length));
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      db.prepare(
        `INSERT INTO documents (id, storage_key, sha256, size, pages, filename, created_at) VALUES ('doc_bench', 'doc_bench.pdf', '', 1, 1, 'a.pdf', ?)`,
      ).run(now);
      const message = db.prepare(
        `INSERT INTO messages (id, sender, references_json, document_id, received_at) VALUES (?, ?, '[]', 'doc_bench', ?)`,
      );
      const insert = db.prepare(
        `INSERT INTO jobs (id, message_row_id, to_number, from_number, sender, status, attempt, max_attempts, created_at, updated_at, finished_at)
         VALUES (?, ?, ?, '+15550000000', ?, ?, 1, 3, ?, ?, ?)`,
      );
      for (let i = 0; i < count; i++) {
        const row = job(i);
        if (i % 100 === 0) message.run(row.message, row.sender, row.created);
        insert.run(
          row.id,
          row.message,
          row.to,
          row.sender,
          row.status,
          row.created,
          row.created,
          row.created,
        );
      }
    })();
    db.close();
    return;
  }
  await adminQuery(
    `INSERT INTO ${schema}.documents (id, storage_key, sha256, size, pages, filename, created_at) VALUES ('doc_bench', 'doc_bench.pdf', '', 1, 1, 'a.pdf', ${now})`,
  );
  for (let start = 0; start < count; start += 10_000) {
    const rows = Array.from({ length: Math.min(10_000, count - start) }, (_, k) => job(start + k));
    await adminQuery(
      `INSERT INTO ${schema}.messages (id, sender, references_json, document_id, received_at)
       SELECT m, s, '[]', 'doc_bench', c FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(m, s, c)`,
      [
        rows.filter((_, k) => (start + k) % 100 === 0).map((r) => r.message),
        rows.filter((_, k) => (start + k) % 100 === 0).map((r) => r.sender),
        rows.filter((_, k) => (start + k) % 100 === 0).map((r) => r.created),
      ],
    );
    await adminQuery(
      `INSERT INTO ${schema}.jobs (id, message_row_id, to_number, from_number, sender, status, attempt, max_attempts, created_at, updated_at, finished_at)
       SELECT i, m, t, '+15550000000', s, st, 1, 3, c, c, c
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS x(i, m, t, s, st, c)`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.message),
        rows.map((r) => r.to),
        rows.map((r) => r.sender),
        rows.map((r) => r.status),
        rows.map((r) => r.created),
      ],
    );
  }
  // What autovacuum does on its own within a minute of such a load.
  await adminQuery(`ANALYZE ${schema}.jobs`);
}

async function measure(dialect: string, dir: string, databaseUrl: string, requests: number) {
  const hash = await hashPassword(PASSWORD);
  const file = path.join(dir, 'faxbridge.yaml');
  writeFileSync(
    file,
    `data_dir: ${JSON.stringify(dir)}\nsmtp:\n  listen: 127.0.0.1:0\nhttp:\n  listen: 127.0.0.1:0\ndatabase:\n  url: ${JSON.stringify(databaseUrl)}\nconsole:\n  users:\n    - email: admin@example.com\n      password_hash: '${hash}'\n      role: admin\n`,
  );
  const simulator = await startSimulator();
  const { config } = loadConfig(file, {});
  const daemon = await startDaemon({
    config,
    log: makeSilentLogger(),
    telnyx: { apiUrl: simulator.url, apiKey: '', publicKey: simulator.publicKey },
  });
  const base = daemon.http.url;
  try {
    const cookie = await signIn(base);
    const get = async (pathAndQuery: string) => {
      const answer = await fetch(`${base}${pathAndQuery}`, { headers: { cookie } });
      const text = await answer.text();
      if (answer.status !== 200) throw new Error(`${pathAndQuery}: ${answer.status}`);
      return text;
    };
    const deepPath = async () => {
      let next = '/console/jobs';
      for (let page = 0; page < 20; page++)
        next = /href="(\/console\/jobs\?[^"]*before=[^"]+)"/
          .exec(await get(next))![1]!
          .replace(/&amp;/g, '&');
      return next;
    };
    const day = new Date(Date.now() - 30 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const variants: Variant[] = [
      { name: 'newest', path: () => '/console/jobs' },
      { name: '20 pages deep', path: deepPath },
      { name: 'status=failed', path: () => '/console/jobs?status=failed' },
      { name: 'number prefix +1555123', path: () => '/console/jobs?number=%2B1555123' },
      { name: 'one sender (a user)', path: () => '/console/jobs?sender=user7%40example.com' },
      { name: `one day (${day})`, path: () => `/console/jobs?date=${day}` },
    ];
    const rows: Array<Record<string, string | number>> = [];
    await waitForIdleMachine(120_000);
    for (const variant of variants) {
      const target = await variant.path(base);
      const body = await get(target); // warm-up, and the row count
      const times: number[] = [];
      for (let i = 0; i < requests; i++) {
        const started = performance.now();
        await get(target);
        times.push(performance.now() - started);
      }
      const row = {
        store: dialect,
        page: variant.name,
        p50: round(percentile(times, 50)),
        p95: round(percentile(times, 95)),
        max: round(Math.max(...times)),
        rows: (body.match(/<tr>/g) ?? []).length,
      };
      console.log(JSON.stringify(row));
      rows.push(row);
    }
    return rows;
  } finally {
    await daemon.stop(1000);
    await simulator.close();
  }
}

/** The CSRF cookie and token from the sign-in page, then the session cookie from signing in. */
async function signIn(base: string): Promise<string> {
  const page = await fetch(`${base}/console/sign-in`);
  const csrfCookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const answer = await fetch(`${base}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie, origin: base },
    body: new URLSearchParams({ _csrf: token, email: 'admin@example.com', password: PASSWORD }).toString(),
  });
  if (answer.status !== 303) throw new Error(`sign-in answered ${answer.status}`);
  const session = answer.headers.getSetCookie().map((c) => c.split(';')[0]!);
  return [csrfCookie, ...session].join('; ');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

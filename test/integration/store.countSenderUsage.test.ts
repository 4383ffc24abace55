import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { JobStore, NewMessage } from '../../src/store/jobStore.js';
import { openStore } from '../../src/store/openStore.js';
import { postgresReachable, type PostgresSchema, withPostgres } from '../helpers/postgres.js';

/*
 * countSenderUsage (per-sender limits) on both stores: jobs and their document's pages for one sender
 * since a moment, every recipient of a message counted as one fax.
 */
const postgresUp = await postgresReachable();
const HOUR = 3_600_000;
const NOW = 1_700_000_000_000;
const id = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

function message(sender: string, numbers: string[], pages: number, at: number): NewMessage {
  const documentId = id('doc');
  return {
    document: {
      id: documentId,
      storage_key: `${documentId}.pdf`,
      sha256: 'cd'.repeat(32),
      size: 1000,
      pages,
      filename: 'a.pdf',
      created_at: at,
    },
    message: {
      id: id('msg'),
      sender,
      sender_name: null,
      envelope_from: sender,
      message_id: null,
      subject: null,
      references_json: '[]',
      document_id: documentId,
      session_id: null,
      received_at: at,
    },
    jobs: numbers.map((to) => ({ id: id('fx'), to_number: to, from_number: '+15550001111' })),
    max_attempts: 3,
    accepted_receipt: false,
  };
}

describe.each(['sqlite', 'postgres'] as const)('countSenderUsage on %s', (dialect) => {
  let store: JobStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      if (!postgresUp) return;
      const database: PostgresSchema = await withPostgres();
      store = await openStore(database.url);
      cleanup = () => database.drop();
    } else {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-usage-'));
      store = await openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it.skipIf(dialect === 'postgres' && !postgresUp)(
    'counts jobs and pages per sender in the window',
    async () => {
      await store.acceptMessage(
        message('alice@example.com', ['+15551230001', '+15551230002'], 3, NOW - 2 * HOUR),
        NOW - 2 * HOUR,
      );
      await store.acceptMessage(
        message('alice@example.com', ['+15551230003'], 5, NOW - 10_000),
        NOW - 10_000,
      );
      await store.acceptMessage(message('bob@example.com', ['+15551230004'], 7, NOW - 10_000), NOW - 10_000);

      expect(await store.countSenderUsage('alice@example.com', NOW - HOUR)).toEqual({ faxes: 1, pages: 5 });
      expect(await store.countSenderUsage('Alice@Example.com', NOW - 24 * HOUR)).toEqual({
        faxes: 3,
        pages: 11,
      });
      expect(await store.countSenderUsage('bob@example.com', NOW - HOUR)).toEqual({ faxes: 1, pages: 7 });
      expect(await store.countSenderUsage('carol@example.com', NOW - HOUR)).toEqual({ faxes: 0, pages: 0 });
    },
  );
});

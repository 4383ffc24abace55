import type Database from 'better-sqlite3';

import { INBOUND_UPDATE_COLUMNS } from '../inboundTypes.js';
import type {
  InboundFaxChange,
  InboundFaxRow,
  InboundOutboxEntry,
  NewInboundFax,
  WebhookEventRow,
} from '../jobStore.js';
import { newOutboxId } from '../transitionColumns.js';
import { INSERT_DOCUMENT_SQL } from './insertDocument.js';

/** SQLite has no boolean: `partial` is stored as 0/1 and read back as a boolean. */
type StoredInboundFax = Omit<InboundFaxRow, 'partial'> & { partial: number };

function toRow(stored: StoredInboundFax | undefined): InboundFaxRow | null {
  return stored ? { ...stored, partial: stored.partial === 1 } : null;
}

export function makeSqliteInbound(db: Database.Database) {
  const insertFax = db.prepare(
    `INSERT INTO inbound_faxes (fax_id, status, from_number, to_number, pages, partial, duration_secs, media_url,
       failure_reason, run_at, received_at, created_at, updated_at, finished_at)
     VALUES (@fax_id, @status, @from_number, @to_number, @pages, @partial, @duration_secs, @media_url,
       @failure_reason, @run_at, @received_at, @now, @now, @finished_at)
     ON CONFLICT (fax_id) DO NOTHING`,
  );
  // Inbound outbox rows carry no job id, so the (job_id, kind) unique index does not apply: the inbound row's
  // own state change, in the same transaction, is what makes them happen once.
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
     VALUES (?, ?, NULL, ?, 'pending', ?, ?)`,
  );
  const insertDocument = db.prepare(INSERT_DOCUMENT_SQL);
  const markEvent = db.prepare(
    'UPDATE webhook_events SET processed_at = ?, outcome = ? WHERE id = ? AND processed_at IS NULL',
  );
  const getFax = db.prepare('SELECT * FROM inbound_faxes WHERE fax_id = ?');

  const queue = (entries: InboundOutboxEntry[], now: number) => {
    for (const entry of entries) {
      insertOutbox.run(newOutboxId(), entry.kind, JSON.stringify(entry.payload), now, now);
    }
  };

  const record = db.transaction(
    (
      fax: NewInboundFax,
      outbox: InboundOutboxEntry[],
      eventId: string | null,
      now: number,
    ): 'recorded' | 'duplicate' => {
      if (eventId !== null) {
        const event = db.prepare('SELECT processed_at FROM webhook_events WHERE id = ?').get(eventId) as
          Pick<WebhookEventRow, 'processed_at'> | undefined;
        // Another worker (the sweep, or a second instance) acted on this event first.
        if (event && event.processed_at !== null) return 'duplicate';
      }
      const pending = fax.status === 'received';
      const inserted =
        insertFax.run({
          ...fax,
          partial: fax.partial ? 1 : 0,
          run_at: pending ? now : null,
          finished_at: pending ? null : now,
          now,
        }).changes === 1;
      if (inserted) queue(outbox, now);
      if (eventId !== null) markEvent.run(now, inserted ? 'inbound_recorded' : 'inbound_duplicate', eventId);
      return inserted ? 'recorded' : 'duplicate';
    },
  );

  const claim = db.transaction((owner: string, now: number, leaseMs: number, limit: number) => {
    const due = db
      .prepare(
        `SELECT fax_id FROM inbound_faxes
         WHERE status = 'received' AND run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY run_at, rowid LIMIT ?`,
      )
      .all(now, now, limit) as Array<{ fax_id: string }>;
    const lease = db.prepare(
      `UPDATE inbound_faxes SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
       WHERE fax_id = ? RETURNING *`,
    );
    return due.map(({ fax_id }) => toRow(lease.get(owner, now + leaseMs, now, fax_id) as StoredInboundFax)!);
  });

  const update = db.transaction(
    (faxId: string, owner: string, change: InboundFaxChange, now: number): boolean => {
      const held = db
        .prepare('SELECT 1 FROM inbound_faxes WHERE fax_id = ? AND lease_owner = ?')
        .get(faxId, owner);
      if (!held) return false;
      const columns = INBOUND_UPDATE_COLUMNS.filter((column) => change[column] !== undefined);
      const sets = columns.map((column) => `${column} = @${column}`);
      const values: Record<string, unknown> = Object.fromEntries(columns.map((c) => [c, change[c]]));
      if (change.document) {
        insertDocument.run(change.document);
        sets.push('document_id = @document_id');
        values.document_id = change.document.id;
      }
      db.prepare(
        `UPDATE inbound_faxes SET ${[...sets, 'lease_owner = NULL', 'lease_until = NULL', 'updated_at = @now'].join(', ')}
         WHERE fax_id = @faxId`,
      ).run({ ...values, now, faxId });
      queue(change.outbox ?? [], now);
      return true;
    },
  );

  return {
    recordInboundFax: (
      fax: NewInboundFax,
      outbox: InboundOutboxEntry[],
      eventId: string | null,
      now: number,
    ) => record.immediate(fax, outbox, eventId, now),
    claimInboundFaxes: (owner: string, now: number, leaseMs: number, limit: number) =>
      claim.immediate(owner, now, leaseMs, limit),
    updateInboundFax: (faxId: string, owner: string, change: InboundFaxChange, now: number) =>
      update.immediate(faxId, owner, change, now),
    getInboundFax: (faxId: string) => toRow(getFax.get(faxId) as StoredInboundFax | undefined),
  };
}

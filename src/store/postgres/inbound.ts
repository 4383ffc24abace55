import type { Pool, PoolClient } from 'pg';

import { INBOUND_UPDATE_COLUMNS } from '../inboundTypes.js';
import type { InboundFaxChange, InboundFaxRow, InboundOutboxEntry, NewInboundFax } from '../jobStore.js';
import { newOutboxId } from '../transitionColumns.js';
import { insertDocument } from './insertDocument.js';
import { withTransaction } from './transaction.js';

/**
 * Records a received (or failed) inbound fax once per Telnyx fax id, with its notices and, for a webhook, the
 * event marked processed, in one transaction; the PostgreSQL twin of sqlite/inbound.ts. The event row is
 * locked first (as in processEvent), so two instances handling copies of one event take turns.
 */
export async function recordInboundFax(
  pool: Pool,
  fax: NewInboundFax,
  outbox: InboundOutboxEntry[],
  eventId: string | null,
  now: number,
): Promise<'recorded' | 'duplicate'> {
  return withTransaction(pool, async (client) => {
    if (eventId !== null) {
      const { rows } = await client.query<{ processed_at: number | null }>(
        'SELECT processed_at FROM webhook_events WHERE id = $1 FOR UPDATE',
        [eventId],
      );
      // Another worker (the sweep, or a second instance) acted on this event first.
      if (rows[0] && rows[0].processed_at !== null) return 'duplicate';
    }
    const pending = fax.status === 'received';
    const { rowCount } = await client.query(
      `INSERT INTO inbound_faxes (fax_id, status, from_number, to_number, pages, partial, duration_secs, media_url,
         failure_reason, run_at, received_at, created_at, updated_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
       ON CONFLICT (fax_id) DO NOTHING`,
      [
        fax.fax_id,
        fax.status,
        fax.from_number,
        fax.to_number,
        fax.pages,
        fax.partial,
        fax.duration_secs,
        fax.media_url,
        fax.failure_reason,
        pending ? now : null,
        fax.received_at,
        now,
        pending ? null : now,
      ],
    );
    const inserted = rowCount === 1;
    if (inserted) await queue(client, outbox, now);
    if (eventId !== null) {
      await client.query(
        'UPDATE webhook_events SET processed_at = $1, outcome = $2 WHERE id = $3 AND processed_at IS NULL',
        [now, inserted ? 'inbound_recorded' : 'inbound_duplicate', eventId],
      );
    }
    return inserted ? 'recorded' : 'duplicate';
  });
}

/** Leases due downloads like claimJobs: SKIP LOCKED across instances, expired leases taken over. */
export async function claimInboundFaxes(
  pool: Pool,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<InboundFaxRow[]> {
  const { rows } = await pool.query<InboundFaxRow>(
    `WITH next AS (
       SELECT fax_id FROM inbound_faxes
       WHERE status = 'received' AND run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
       ORDER BY run_at, fax_id
       LIMIT $4
       FOR UPDATE SKIP LOCKED
     ), leased AS (
       UPDATE inbound_faxes f SET lease_owner = $2, lease_until = $3, attempts = f.attempts + 1, updated_at = $1
       FROM next WHERE f.fax_id = next.fax_id
       RETURNING f.*
     )
     SELECT * FROM leased ORDER BY run_at, fax_id`,
    [now, owner, now + leaseMs, limit],
  );
  return rows;
}

/** Applies a worker's change and releases the lease; false (nothing written) when `owner` lost the lease. */
export async function updateInboundFax(
  pool: Pool,
  faxId: string,
  owner: string,
  change: InboundFaxChange,
  now: number,
): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ lease_owner: string | null }>(
      'SELECT lease_owner FROM inbound_faxes WHERE fax_id = $1 FOR UPDATE',
      [faxId],
    );
    if (rows[0]?.lease_owner !== owner) return false;
    const values: unknown[] = [faxId, now];
    const sets = ['lease_owner = NULL', 'lease_until = NULL', 'updated_at = $2'];
    for (const column of INBOUND_UPDATE_COLUMNS) {
      if (change[column] === undefined) continue;
      values.push(change[column]);
      sets.push(`${column} = $${values.length}`);
    }
    const document = change.document;
    if (document) {
      await insertDocument(client, document);
      values.push(document.id);
      sets.push(`document_id = $${values.length}`);
    }
    await client.query(`UPDATE inbound_faxes SET ${sets.join(', ')} WHERE fax_id = $1`, values);
    await queue(client, change.outbox ?? [], now);
    return true;
  });
}

export async function getInboundFax(pool: Pool, faxId: string): Promise<InboundFaxRow | null> {
  const { rows } = await pool.query<InboundFaxRow>('SELECT * FROM inbound_faxes WHERE fax_id = $1', [faxId]);
  return rows[0] ?? null;
}

/**
 * Inbound outbox rows carry no job id, so the (job_id, kind) unique index does not apply: the inbound row's own
 * state change, in the same transaction, is what makes them happen once.
 */
async function queue(client: PoolClient, entries: InboundOutboxEntry[], now: number): Promise<void> {
  for (const entry of entries) {
    await client.query(
      `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
       VALUES ($1, $2, NULL, $3, 'pending', $4, $4)`,
      [newOutboxId(), entry.kind, JSON.stringify(entry.payload), now],
    );
  }
}

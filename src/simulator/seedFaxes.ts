import { type FaxRecord, type FaxStore, isoTime } from './faxStore.js';
import type { FaxSeed } from './types.js';

/**
 * Finished faxes that exist only in the list (no media, no lifecycle, no webhooks): a test that needs more than
 * one page of GET /faxes gets 250 of them in a moment instead of faxing them.
 */
export function seedFaxes(store: FaxStore, seed: FaxSeed): FaxRecord[] {
  const direction = seed.direction ?? 'outbound';
  const status = seed.status ?? (direction === 'outbound' ? 'delivered' : 'received');
  const records: FaxRecord[] = [];
  for (let n = 0; n < seed.count; n++) {
    const record = store.create({
      direction,
      status,
      connectionId: 'seeded',
      from: seed.from ?? '+15550000000',
      to: seed.to,
      clientState: null,
      webhookUrl: null,
      mediaUrl: null,
      request: null,
      rawRequest: null,
      outcome: { kind: 'deliver' },
    });
    if (seed.createdAt !== undefined) {
      record.fax.createdAt = isoTime(seed.createdAt);
      record.fax.updatedAt = record.fax.createdAt;
    }
    records.push(record);
  }
  return records;
}

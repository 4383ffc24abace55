/**
 * Who may hold one of the listener's connections. `max_clients` alone let anyone who can connect take every
 * slot with idle sessions, and the office's own relay was then turned away. So:
 * - one address holds at most `max_clients_per_address` sessions at once (trusted relays are exempt: a relay
 *   legitimately opens many parallel sessions);
 * - the last `relay_slots` of `max_clients` are kept for trusted relays; everyone else shares the rest.
 * The counts live in the closure, one per SMTP listener (the implicit-TLS listener shares its primary's).
 */
export interface ConnectionSlotLimits {
  maxClients: number;
  perAddress: number;
  /** Slots only trusted relays may use; 0 when no relay is configured. */
  relaySlots: number;
}

export type SlotRefusal = { kind: 'listener_full'; max: number } | { kind: 'address_full'; max: number };

export interface ConnectionSlots {
  /** Takes a slot for `sessionId`, or says why none is free. */
  admit(sessionId: string, address: string, trusted: boolean): SlotRefusal | null;
  /** Gives the session's slot back (harmless for a session that never got one). */
  release(sessionId: string): void;
  /** Sessions holding a slot now. */
  size(): number;
}

export function makeConnectionSlots(limits: ConnectionSlotLimits): ConnectionSlots {
  const holders = new Map<string, { address: string; trusted: boolean }>();
  const perAddress = new Map<string, number>();
  let untrusted = 0;
  const sharedSlots = Math.max(1, limits.maxClients - limits.relaySlots);

  return {
    admit(sessionId, address, trusted) {
      if (holders.size >= limits.maxClients) return { kind: 'listener_full', max: limits.maxClients };
      if (!trusted) {
        if (untrusted >= sharedSlots) return { kind: 'listener_full', max: limits.maxClients };
        if ((perAddress.get(address) ?? 0) >= limits.perAddress) {
          return { kind: 'address_full', max: limits.perAddress };
        }
        untrusted += 1;
        perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      }
      holders.set(sessionId, { address, trusted });
      return null;
    },
    release(sessionId) {
      const holder = holders.get(sessionId);
      if (!holder) return;
      holders.delete(sessionId);
      if (holder.trusted) return;
      untrusted -= 1;
      const left = (perAddress.get(holder.address) ?? 1) - 1;
      if (left > 0) perAddress.set(holder.address, left);
      else perAddress.delete(holder.address);
    },
    size: () => holders.size,
  };
}

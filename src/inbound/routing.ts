/**
 * Who receives a fax that arrived on one of our numbers (docs/behaviour.md §7): the `inbound` route for the
 * exact called number, else the `*` route; in sandbox with no routes at all, `inbox@<first fax domain>`;
 * otherwise the `admin` addresses, flagged as unrouted. Pure: the caller logs and counts.
 */
import type { Config } from '../config/loadConfig.js';
import type { InboundOutboxEntry } from '../store/jobStore.js';

export type DeliveryMode = 'attach' | 'link' | 'notice';

export interface InboundRoute {
  recipients: string[];
  mode: DeliveryMode;
  /** No route matched: the mail goes to `admin` and says so. */
  unrouted: boolean;
}

type RoutingConfig = Pick<Config, 'inbound' | 'admin' | 'sandbox'> & {
  smtp: Pick<Config['smtp'], 'domains'>;
};

/** Null when nobody at all can be told (no route, no `*`, no `admin`): the caller logs it as an error. */
export function routeInbound(config: RoutingConfig, calledNumber: string): InboundRoute | null {
  const exact = config.inbound.find((route) => route.number === calledNumber);
  const route = exact ?? config.inbound.find((candidate) => candidate.number === '*');
  if (route) return { recipients: unique(route.deliver_to), mode: route.mode, unrouted: false };
  if (config.sandbox && config.inbound.length === 0 && config.smtp.domains.length > 0) {
    return { recipients: [`inbox@${config.smtp.domains[0]}`], mode: 'attach', unrouted: false };
  }
  // The admin gets the document attached whatever the routes say: they must be able to pass it on.
  if (config.admin.length > 0) return { recipients: unique(config.admin), mode: 'attach', unrouted: true };
  return null;
}

/** The admin addresses, for trouble the routed people cannot fix (downloads that keep failing). */
export function adminRecipients(config: Pick<Config, 'admin'>): string[] {
  return unique(config.admin);
}

/**
 * What each outbox row of an inbound fax carries: one row per recipient list (the mail's To has them all),
 * so that the composer can rebuild the same mail, with the same Message-ID, after a crash.
 */
export interface InboundMailPayload {
  fax_id: string;
  /** `fax`: the fax itself; `failed`: Telnyx reported a failed fax, or we gave up downloading it; `trouble`:
   * the admin is told the download keeps failing and is being retried. */
  mail: 'fax' | 'failed' | 'trouble';
  to: string[];
  mode?: DeliveryMode;
  unrouted?: boolean;
  /** `failed`/`trouble`: our words for what went wrong (the last download error). */
  detail?: string;
  /**
   * A `fax` mail sent again from the web console: its own id gives it its own Message-ID (a crash-repeat of the
   * same re-send keeps it), and the mail says who asked and when (epoch ms).
   */
  resend?: { id: string; by: string; at: number };
}

export const INBOUND_OUTBOX_KIND = 'inbound_fax' as const;

export function inboundMailEntry(payload: InboundMailPayload): InboundOutboxEntry {
  return { kind: INBOUND_OUTBOX_KIND, payload: { ...payload } };
}

function unique(addresses: readonly string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    const key = address.trim().toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

import type { Config } from '../config/loadConfig.js';
import type { InboundFaxRow, JobRow, NumberScope } from '../store/jobStore.js';
import type { Viewer } from './consoleDeps.js';

/*
 * Who sees what: an admin sees everything; a user sees the faxes they sent (the job's sender is their address)
 * and the received faxes routed to their address by `inbound`. Anything else answers exactly like a missing
 * object, so a guessed id reveals nothing.
 */

export function canSeeJob(viewer: Viewer, job: JobRow): boolean {
  return viewer.role === 'admin' || job.sender === viewer.email;
}

/** The called numbers whose faxes the viewer may see; undefined for all. */
export function inboundScope(config: Config, viewer: Viewer): NumberScope | undefined {
  if (viewer.role === 'admin') return undefined;
  const mine = (deliverTo: readonly string[]) =>
    deliverTo.some((address) => address.toLowerCase() === viewer.email);
  const exact = config.inbound.filter((route) => route.number !== '*');
  const catchAll = config.inbound.find((route) => route.number === '*');
  // On the `*` route the user gets every number except those routed elsewhere without them.
  if (catchAll && mine(catchAll.deliver_to))
    return { notIn: exact.filter((route) => !mine(route.deliver_to)).map((route) => route.number) };
  return { in: exact.filter((route) => mine(route.deliver_to)).map((route) => route.number) };
}

export function canSeeInbound(config: Config, viewer: Viewer, fax: InboundFaxRow): boolean {
  const scope = inboundScope(config, viewer);
  if (!scope) return true;
  return 'in' in scope ? scope.in.includes(fax.to_number) : !scope.notIn.includes(fax.to_number);
}

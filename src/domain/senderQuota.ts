/**
 * Per-sender limits (`limits.faxes_per_hour`, `limits.pages_per_day`): the phone bill a compromised
 * mailbox can run up. Usage is counted from the jobs already accepted, so limits hold across restarts and across
 * instances sharing one database. Pure; the SMTP layer answers a breach with 451 4.7.1 so the sender's server
 * tries again later, when the window has moved on.
 */
export interface SenderLimits {
  /** 0 means no limit. */
  faxes_per_hour: number;
  pages_per_day: number;
}

export interface SenderUsage {
  faxes: number;
  pages: number;
}

export type QuotaBreach = { limit: 'faxes_per_hour' | 'pages_per_day'; max: number; used: number };

/** The first limit `adding` would take the sender past, or null when it fits. */
export function findQuotaBreach(
  limits: SenderLimits,
  usage: { hour: SenderUsage; day: SenderUsage },
  adding: { faxes: number; pages: number },
): QuotaBreach | null {
  const max = limits.faxes_per_hour;
  if (max > 0 && adding.faxes > 0 && usage.hour.faxes + adding.faxes > max) {
    return { limit: 'faxes_per_hour', max, used: usage.hour.faxes };
  }
  const pages = limits.pages_per_day;
  if (pages > 0 && adding.pages > 0 && usage.day.pages + adding.pages > pages) {
    return { limit: 'pages_per_day', max: pages, used: usage.day.pages };
  }
  return null;
}

/** Words for the 451 reply: what was reached and that it clears by itself. */
export function describeBreach(sender: string, breach: QuotaBreach): string {
  return breach.limit === 'faxes_per_hour'
    ? `${sender} has sent ${breach.used} of at most ${breach.max} faxes this hour; try again later`
    : `${sender} has sent ${breach.used} of at most ${breach.max} fax pages in 24 hours; try again later`;
}

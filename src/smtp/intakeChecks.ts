/**
 * Checks receive.ts asks for at end of DATA, supplied per message by the SMTP guards (src/smtp/guards.ts). Kept
 * as an interface so receive.ts knows nothing of AUTH, DMARC or limits: each check throws an SMTP reply error.
 */
export interface IntakeChecks {
  /** The header From is known and listed in `senders`: may this session send as it? (550 5.7.1, or 451) */
  authorizeSender(sender: string): Promise<void>;
  /** Just before the jobs are stored: would they take the sender past a limit? (451 4.7.1) */
  checkLimits(sender: string, adding: { faxes: number; pages: number }): Promise<void>;
}

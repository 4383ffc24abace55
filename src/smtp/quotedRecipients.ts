import { SMTPConnection } from './smtpServerLibrary.js';

/**
 * Phone numbers are written the way people read them: `"+1 (555) 123-4567"@fax.example.com`. RFC 5321 allows
 * spaces inside a quoted local part, but smtp-server splits the RCPT argument at whitespace before it looks at
 * quotes, so such an address gets `501 Bad recipient address syntax` before our number check ever sees it.
 *
 * This wrapper removes the whitespace inside a quoted local part of RCPT TO before the library parses it. The
 * number check drops spaces anyway, so the meaning is kept; anything unquoted, and MAIL FROM, are untouched.
 * Applied once per process; idempotent.
 */
let installed = false;

/** `RCPT TO:<"…"@domain>` with whitespace inside the quotes; the rest of the line (parameters) is kept. */
const QUOTED_RECIPIENT = /^(\s*RCPT\s+TO\s*:\s*<)("(?:[^"\\]|\\.)*")(@[^<>\s]*>)/i;

export function installQuotedRecipientSpaces(): void {
  if (installed) return;
  installed = true;
  const original = SMTPConnection.prototype._parseAddressCommand;
  SMTPConnection.prototype._parseAddressCommand = function parseAddressCommand(
    this: SMTPConnection,
    rawName: string,
    rawCommand: Buffer | string,
  ) {
    return original.call(this, rawName, collapseQuotedSpaces(String(rawCommand)));
  } as typeof original;
}

/** `RCPT TO:<"+1 (555) 123-4567"@x>` → `RCPT TO:<"+1(555)123-4567"@x>`; other commands are returned as they are. */
export function collapseQuotedSpaces(command: string): string {
  const match = QUOTED_RECIPIENT.exec(command);
  if (!match || !/\s/.test(match[2]!)) return command;
  return `${match[1]}${match[2]!.replace(/\s+/g, '')}${match[3]}${command.slice(match[0].length)}`;
}

import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** What smtp-server says while closing: to every command once close() ran, and to sessions left at the end. */
const LIBRARY_SHUTDOWN_TEXT = 'Server shutting down';
/** RFC 3463 X.3.2 "system not accepting network messages"; product.md §9 asks for exactly `421 4.3.2`. */
export const SHUTDOWN_REPLY = '4.3.2 faxbridge is shutting down; please try again later';
let installed = false;

/**
 * smtp-server's close() already answers every new command with 421 and keeps DATA in progress going until
 * `closeTimeout` (smtp-server.js close(), smtp-connection.js _onCommand). Its enhanced code, derived from 421,
 * is 4.4.2 ("bad connection"); a sending MTA should read "come back later", so the reply becomes 4.3.2 with
 * our text. Passing `false` as the context stops the library adding its own code in front. Idempotent.
 */
export function installShutdownReply(): void {
  if (installed) return;
  installed = true;
  const original = SMTPConnection.prototype.send;
  SMTPConnection.prototype.send = function send(
    this: SMTPConnection,
    code: number,
    data?: string | string[] | null,
    context?: string | false,
  ) {
    if (code === 421 && data === LIBRARY_SHUTDOWN_TEXT)
      return original.call(this, code, SHUTDOWN_REPLY, false);
    return original.call(this, code, data, context);
  } as typeof original;
}

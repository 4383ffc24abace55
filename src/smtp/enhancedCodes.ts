import { formatBytes } from '../lib/units.js';
import { SMTPConnection } from './smtpServerLibrary.js';

const HAS_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;
const SIZE_REFUSAL = /^Error: message exceeds fixed maximum message size (\d+)$/;
/** What smtp-server says to every command once close() ran, and to sessions still open at the end. */
const LIBRARY_SHUTDOWN_TEXT = 'Server shutting down';
let installed = false;

/**
 * smtp-server derives the enhanced status code from the reply code alone (550 → 5.1.1 for every 550), but
 * docs/behaviour.md §3 gives each refusal its own (5.7.1 relay, 5.1.1 number, 5.6.0 document). Our replies
 * carry their code in the text, so for those the library must not add a second one. The library's own replies
 * (syntax errors, SIZE=, timeouts) keep its codes. Applied once per process; idempotent.
 */
export function installEnhancedCodePassthrough(): void {
  if (installed) return;
  installed = true;
  const original = SMTPConnection.prototype.send;
  SMTPConnection.prototype.send = function send(
    this: SMTPConnection,
    code: number,
    data?: string | string[] | null,
    context?: string | false,
  ) {
    const text = typeof data === 'string' ? plainWords(code, data) : data;
    const ownCode = typeof text === 'string' && HAS_ENHANCED_CODE.test(text);
    return original.call(this, code, text, ownCode ? false : context);
  } as typeof original;
}

/**
 * Two library replies said our way: the SIZE refusal (docs/behaviour.md §3: 552 5.3.4), and the shutdown
 * reply, whose derived 4.4.2 ("bad connection") becomes RFC 3463's 4.3.2 "not accepting messages"
 * (docs/behaviour.md §9).
 */
function plainWords(code: number, text: string): string {
  const size = code === 552 ? SIZE_REFUSAL.exec(text) : null;
  if (size) return `5.3.4 Message too large for fax; the limit is ${formatBytes(Number(size[1]))}`;
  if (code === 421 && text === LIBRARY_SHUTDOWN_TEXT)
    return '4.3.2 faxbridge is shutting down; please try again later';
  return text;
}

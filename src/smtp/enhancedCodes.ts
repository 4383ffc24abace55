import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const HAS_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

/**
 * smtp-server derives the enhanced status code from the reply code alone (550 → 5.1.1 for every 550), but
 * product.md §3 gives each refusal its own (5.7.1 relay, 5.1.1 number, 5.6.0 document). Our replies carry
 * their code in the text, so for those the library must not add a second one. The library's own replies
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
    const ownCode = typeof data === 'string' && HAS_ENHANCED_CODE.test(data);
    return original.call(this, code, data, ownCode ? false : context);
  } as typeof original;
}

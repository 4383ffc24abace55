import type * as SmtpServerLibrary from 'smtp-server';
import type * as SmtpConnectionModule from 'smtp-server/lib/smtp-connection.js';

import { requireCommonJs } from '../lib/requireCommonJs.js';

/**
 * smtp-server's CommonJS build (lib/requireCommonJs.ts says why). The connection class is the one the server makes
 * its sessions from, so what quotedRecipients.ts and enhancedCodes.ts change on it holds for every session.
 */
export const { SMTPServer } = requireCommonJs('smtp-server') as typeof SmtpServerLibrary;
export type SMTPServer = SmtpServerLibrary.SMTPServer;
export const { SMTPConnection } = requireCommonJs(
  'smtp-server/lib/smtp-connection.js',
) as typeof SmtpConnectionModule;
export type SMTPConnection = SmtpConnectionModule.SMTPConnection;

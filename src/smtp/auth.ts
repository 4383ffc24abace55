import type {
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerSession,
} from 'smtp-server';

import type { AuthUserRule } from '../domain/senderTrust.js';
import { hashPassword, parsePasswordHash, verifyPassword } from '../lib/passwordHash.js';
import { MINUTE, SECOND } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { AuthLock, AuthThrottle } from './authThrottle.js';
import { smtpReply } from './replies.js';

/**
 * SMTP AUTH (PLAIN and LOGIN) against `smtp.auth`. Passwords are checked with scrypt in constant time;
 * an unknown user costs the same scrypt run as a known one, so timing does not tell which users exist. Over a
 * connection without TLS, AUTH is refused unless `smtp.allow_insecure_auth` (smtp-server only refuses it by
 * itself when STARTTLS is offered). Neither the password nor the AUTH line is ever logged.
 */
export interface AuthUser extends AuthUserRule {
  password_hash: string;
}

export type OnAuth = (
  auth: SMTPServerAuthentication,
  session: SMTPServerSession,
  callback: (error: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
) => void;

/** A wrong password waits this long before its 535: slows guessing on one connection to a crawl. */
const FAILURE_DELAY = 1 * SECOND;

export async function makeAuthHandler(deps: {
  users: readonly AuthUser[];
  allowInsecure: boolean;
  log: Logger;
  onRejected?: (reason: string) => void;
  failureDelayMs?: number;
  /** Per-connection, per-account and per-address limits on wrong passwords. */
  throttle: AuthThrottle;
  /** Ends the session's connection (after its reply was sent). */
  closeConnection: (session: SMTPServerSession) => void;
}): Promise<OnAuth> {
  const { users, log } = deps;
  // Checked against for unknown users, so that they cost as much as known ones (same scrypt cost).
  const cost = users.map((user) => parsePasswordHash(user.password_hash)).find((parsed) => parsed !== null);
  // Without users AUTH is not offered at all, so no decoy is worth the startup time.
  const decoy = users.length > 0 ? await hashPassword('faxbridge-decoy-password', cost ?? undefined) : '';
  const byName = new Map(users.map((user) => [user.user.toLowerCase(), user]));
  const delay = deps.failureDelayMs ?? FAILURE_DELAY;

  return (auth, session, callback) => {
    const slog = log.child({ session: session.id });
    if (!session.secure && !deps.allowInsecure) {
      deps.onRejected?.('tls_required');
      return callback(
        smtpReply(
          538,
          '5.7.11',
          'Encryption required: use STARTTLS (or the TLS port) before AUTH',
          'tls_required',
        ),
      );
    }
    const name = (auth.username ?? '').trim();
    const user = byName.get(name.toLowerCase());
    const remote = session.remoteAddress;
    const refuseLocked = (lock: AuthLock) => {
      deps.onRejected?.('auth_locked');
      slog.warn(
        { user: user ? user.user : '(unknown user)', locked: lock.what, remote, until: lock.until },
        'smtp auth refused: locked after too many failed logins',
      );
      callback(lockedReply(lock));
    };
    const lockBefore = deps.throttle.lockOf(name, remote);
    if (lockBefore) return refuseLocked(lockBefore);
    verifyPassword(auth.password ?? '', user ? user.password_hash : decoy).then(
      (ok) => {
        // A lock that began while this password was being checked holds for it too, the right one included.
        const lockAfter = deps.throttle.lockOf(name, remote);
        if (lockAfter) return refuseLocked(lockAfter);
        if (ok && user) {
          slog.info(
            { user: user.user, method: auth.method, remote: session.remoteAddress },
            'smtp auth succeeded',
          );
          return callback(null, { user: user.user });
        }
        // An unknown name is not logged: people type their password into the user field.
        const { closeConnection, locked } = deps.throttle.recordFailure(session.id, name, remote);
        slog.warn(
          { user: user ? user.user : '(unknown user)', method: auth.method, remote },
          'smtp auth failed',
        );
        if (locked) {
          slog.warn(
            { user: user ? user.user : '(unknown user)', locked: locked.what, remote, until: locked.until },
            'smtp auth locked after too many failed logins',
          );
        }
        deps.onRejected?.('auth_failed');
        setTimeout(() => {
          if (!closeConnection) {
            return callback(smtpReply(535, '5.7.8', 'Authentication credentials invalid', 'auth_failed'));
          }
          callback(
            smtpReply(
              421,
              '4.7.0',
              'Authentication credentials invalid, and too many failed logins on this connection; closing it',
              'auth_failed',
            ),
          );
          deps.closeConnection(session);
        }, delay).unref();
      },
      (error: unknown) => {
        slog.error({ err: error }, 'smtp auth could not be checked');
        callback(smtpReply(454, '4.7.0', 'Temporary authentication failure; try again later', 'auth_failed'));
      },
    );
  };
}

/** 454: temporary (RFC 4954), so a client that is not guessing simply tries again later. */
function lockedReply(lock: AuthLock) {
  const minutes = Math.max(1, Math.ceil(lock.remainingMs / MINUTE));
  const whose = lock.what === 'account' ? 'for this account' : 'from your address';
  return smtpReply(
    454,
    '4.7.0',
    `Too many failed logins ${whose}; logins are refused for ${minutes} more minutes`,
    'auth_locked',
  );
}

/** The user's rule by the name AUTH accepted (session.user), for `send_as` checks. */
export function findAuthUser(users: readonly AuthUser[], name: unknown): AuthUser | null {
  if (typeof name !== 'string' || !name) return null;
  const wanted = name.toLowerCase();
  return users.find((user) => user.user.toLowerCase() === wanted) ?? null;
}

import type { DocumentStorage } from '../blobs/documentStorage.js';
import type { Config } from '../config/loadConfig.js';
import type { ReadinessCheck } from '../http/health.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../log.js';
import type { JobRow, JobStore } from '../store/jobStore.js';

/** What the console's routes need from the daemon. */
export interface ConsoleDeps {
  config: Config;
  store: JobStore;
  documents: DocumentStorage;
  /** The HTTP link secret; the console derives its own session and CSRF key from it. */
  urlSecret: string;
  clock: Clock;
  log: Logger;
  /** Database, storage and mail relay checks (the /readyz answer), for the health page. */
  ready: ReadinessCheck;
  /** What the daemon last heard from Telnyx (noted on every API call), for the health page. */
  telnyxCalls: { last(): ApiCallNote | null; lastOk(): ApiCallNote | null };
  /** When this daemon started (epoch ms): "no call to Telnyx since …". */
  startedAt: number;
  /** Tells Telnyx (or the sandbox simulator) to stop a placed fax; throws OperatorRefusal when refused. */
  cancelAtTelnyx: (faxId: string) => Promise<void>;
  /** Jobs queued from the send page or by a retry: wakes the workers. */
  onQueued: (jobs: JobRow[]) => void;
  /** A mail was written to the outbox (a received fax sent again): wakes the outbox worker. */
  onMailQueued: () => void;
}

/** One Telnyx API call as the daemon noted it (telnyx/callLog.ts). */
export interface ApiCallNote {
  call: string;
  at: number;
  outcome: 'ok' | 'rejected' | 'retry' | 'uncertain';
  status: number | null;
  detail: string | null;
}

/** Who is looking: the signed-in user, the user a sign-in proxy vouched for, or anybody in open sandbox mode. */
export interface Viewer {
  email: string;
  role: 'user' | 'admin';
  via: 'password' | 'proxy' | 'sandbox';
}

/** Sandbox without any console users or proxy: nobody signs in, and every page says so. */
export function isOpenSandbox(config: Config): boolean {
  return config.sandbox && config.console.users.length === 0 && !config.console.trusted_header;
}

/** Whether the console is served at all (see `console.enabled`). */
export function consoleEnabled(config: Config): boolean {
  const { enabled, users, trusted_header: header } = config.console;
  if (enabled !== undefined) return enabled && (config.sandbox || users.length > 0 || Boolean(header));
  return config.sandbox || users.some((user) => user.password_hash) || Boolean(header);
}

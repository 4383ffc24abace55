import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

import type { Logger } from '../log.js';
import { SMTPServer } from './smtpServerLibrary.js';

/**
 * TLS for the SMTP listener: the certificate and key of `smtp.tls` for STARTTLS, an optional listener
 * that speaks TLS from the first byte (`smtp.tls_listen`, port 465 style), and a reload of both on SIGHUP so a
 * renewed certificate (certbot, ACME) is picked up without dropping sessions. A reload that fails keeps the
 * certificate in use and says why.
 */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** Reads the PEM files and checks that they make a usable context (the key fits the certificate). */
export function readTlsFiles(paths: { cert: string; key: string }): TlsFiles {
  const files = { cert: readFileSync(paths.cert), key: readFileSync(paths.key) };
  createSecureContext(files);
  return files;
}

export interface ImplicitTlsListener {
  server: SMTPServer;
  address(): { host: string; port: number };
  close(graceMs: number): Promise<void>;
}

/**
 * A second server with the primary's options and handlers (smtp-server keeps both in `options`), listening with
 * implicit TLS. Copied, because smtp-server changes the options object it is given.
 */
export async function startImplicitTlsListener(
  primary: SMTPServer,
  listen: { host: string; port: number },
  log: Logger,
): Promise<ImplicitTlsListener> {
  const server = new SMTPServer({ ...primary.options, secure: true, needsUpgrade: false });
  server.on('error', (error) => log.warn({ err: error }, 'smtp tls listener error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const bound = server.server.address();
  const address = { host: listen.host, port: typeof bound === 'object' && bound ? bound.port : listen.port };
  log.info(address, 'smtp implicit TLS listening');
  return {
    server,
    address: () => address,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        server.options.closeTimeout = Math.max(1, graceMs);
        server.close(() => resolve());
      }),
  };
}

/**
 * Reloads the certificate and key into every server on `signal` (SIGHUP by default). Returns the function that
 * stops listening for the signal. `reload` is also returned for callers (and tests) that want it without a signal.
 */
export function watchTlsReload(options: {
  paths: { cert: string; key: string };
  servers: () => SMTPServer[];
  log: Logger;
  signal?: NodeJS.Signals;
}): { reload(): boolean; stop(): void } {
  const { paths, servers, log } = options;
  const reload = (): boolean => {
    try {
      const files = readTlsFiles(paths);
      for (const server of servers()) server.updateSecureContext({ cert: files.cert, key: files.key });
      log.info({ cert: paths.cert }, 'smtp tls certificate reloaded');
      return true;
    } catch (error) {
      log.error(
        { err: error, cert: paths.cert },
        'smtp tls certificate could not be reloaded; keeping the old one',
      );
      return false;
    }
  };
  const signal = options.signal ?? 'SIGHUP';
  const onSignal = () => void reload();
  process.on(signal, onSignal);
  return { reload, stop: () => void process.off(signal, onSignal) };
}

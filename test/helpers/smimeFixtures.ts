import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Signed and encrypted mail as real clients make it, with OpenSSL's `smime` command (what Outlook's S/MIME
 * produces on the wire: `smime.p7m` parts, base64 in MIME) and GnuPG for PGP. Keys and certificates are
 * throwaway, made in the test's own directory.
 */
export function makeThrowawaySigner(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'signer.pem');
  const key = join(dir, 'signer.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=alice@example.com',
      '-days',
      '2',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

export interface SmimeHeaders {
  from: string;
  to: string;
  subject: string;
}

/** A MIME entity holding one PDF attachment and a line of text, as a client composes it before signing. */
export function mimeWithPdf(pdf: Buffer, filename: string, text = 'Please fax the attached.'): Buffer {
  const boundary = 'inner-boundary-4711';
  const base64 = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      text,
      `--${boundary}`,
      `Content-Type: application/pdf; name="${filename}"`,
      `Content-Disposition: attachment; filename="${filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      base64,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
    'latin1',
  );
}

/** `openssl smime -sign -nodetach`: an opaque-signed message (smime.p7m, signed-data), headers and all. */
export function opaqueSigned(
  dir: string,
  entity: Buffer,
  signer: { cert: string; key: string },
  headers: SmimeHeaders,
): Buffer {
  const input = join(dir, 'to-sign.eml');
  const output = join(dir, 'signed.eml');
  writeFileSync(input, entity);
  execFileSync('openssl', [
    'smime',
    '-sign',
    '-nodetach',
    '-binary',
    '-in',
    input,
    '-signer',
    signer.cert,
    '-inkey',
    signer.key,
    '-from',
    headers.from,
    '-to',
    headers.to,
    '-subject',
    headers.subject,
    '-out',
    output,
  ]);
  return readFileSync(output);
}

/** `openssl smime -encrypt`: an enveloped (encrypted) message for the certificate's owner, headers and all. */
export function smimeEncrypted(
  dir: string,
  entity: Buffer,
  recipientCert: string,
  headers: SmimeHeaders,
): Buffer {
  const input = join(dir, 'to-encrypt.eml');
  const output = join(dir, 'encrypted.eml');
  writeFileSync(input, entity);
  execFileSync('openssl', [
    'smime',
    '-encrypt',
    '-aes256',
    '-binary',
    '-in',
    input,
    '-from',
    headers.from,
    '-to',
    headers.to,
    '-subject',
    headers.subject,
    '-out',
    output,
    recipientCert,
  ]);
  return readFileSync(output);
}

/**
 * A PGP/MIME encrypted message (RFC 3156) as Thunderbird or Mailvelope send it, encrypted with GnuPG to a throwaway
 * key in a GNUPGHOME of its own under `dir`.
 */
export function pgpEncrypted(dir: string, entity: Buffer, headers: SmimeHeaders): Buffer {
  const home = join(dir, 'gnupg');
  execFileSync('mkdir', ['-m', '700', '-p', home]);
  const gpg = (args: string[], input?: Buffer) =>
    execFileSync(
      'gpg',
      ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
      {
        input,
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    );
  gpg(['--quick-gen-key', 'Fax Gateway <fax@example.com>', 'future-default', 'default', 'never']);
  const armored = gpg(
    ['--trust-model', 'always', '--armor', '--encrypt', '--recipient', 'fax@example.com'],
    entity,
  );
  const boundary = 'pgp-boundary-0815';
  return Buffer.from(
    [
      `From: ${headers.from}`,
      `To: ${headers.to}`,
      `Subject: ${headers.subject}`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: application/pgp-encrypted',
      'Content-Description: PGP/MIME version identification',
      '',
      'Version: 1',
      '',
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="encrypted.asc"',
      'Content-Disposition: inline; filename="encrypted.asc"',
      '',
      armored.toString('latin1').trimEnd(),
      '',
      `--${boundary}--`,
      '',
    ].join('\r\n'),
    'latin1',
  );
}

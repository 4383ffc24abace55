import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { CLI_PATH, startDaemonProcess } from '../helpers/daemonProcess.js';
import { freePort } from '../helpers/freePort.js';
import { startTestRelay, type TestRelay } from '../helpers/testRelay.js';

const KEY = 'KEY_doctor_good';
const APP_ID = '1293384261075731499';
const OUR_NUMBER = '+15550001111';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let simulator: Simulator;
let relay: TestRelay;
let front: Server;
let httpPort: number;
let frontUrl: string;
let fakeBin: string;

/** `faxbridge doctor --config FILE` as an operator runs it (dist build), with the test's CA trusted. */
function doctor(file: string): Promise<Run> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(FAXBRIDGE_|TELNYX_)/.test(name)),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, 'doctor', '--config', file], {
      env: {
        ...env,
        PATH: `${fakeBin}${path.delimiter}${env.PATH ?? ''}`,
        NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Setup {
  apiKey?: string;
  connectionId?: string;
  fromNumber?: string;
  publicUrl?: string;
  smtpUrl?: string;
}

function writeConfig(name: string, setup: Setup = {}): string {
  const data = path.join(dir, name);
  mkdirSync(data, { recursive: true });
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `data_dir: ${data}
smtp:
  listen: 127.0.0.1:0
  domains: [fax.example.com]
http:
  listen: 127.0.0.1:${httpPort}
  public_url: ${setup.publicUrl ?? frontUrl}
telnyx:
  api_url: ${simulator.url}
  api_key: ${setup.apiKey ?? KEY}
  public_key: ${simulator.publicKey}
  connection_id: "${setup.connectionId ?? APP_ID}"
senders:
  - match: alice@example.com
    from_number: "${setup.fromNumber ?? OUR_NUMBER}"
admin: [it@example.com]
mail:
  from: "Fax <fax@fax.example.com>"
  smtp_url: ${setup.smtpUrl ?? relay.url}
`,
  );
  return file;
}

/** The report line of one check, e.g. `PROBLEM  Telnyx API key: …`. */
function line(run: Run, name: string): string {
  return (
    run.stdout.split('\n').find((text) => text.slice(9).startsWith(`${name}:`)) ?? `(no line for ${name})`
  );
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fb-doctor-'));
  simulator = await startSimulator({ apiKey: KEY, connectionId: APP_ID, phoneNumbers: [OUR_NUMBER] });
  relay = await startTestRelay();
  httpPort = await freePort();
  // A TLS front like an operator's reverse proxy: https://127.0.0.1:PORT/healthz → http.listen.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  front = createServer(
    { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
    (req, res) => {
      request(`http://127.0.0.1:${httpPort}${req.url ?? '/'}`).then(
        async (answer) => {
          res.writeHead(answer.statusCode, { 'content-type': 'application/json' });
          res.end(await answer.body.text());
        },
        () => {
          res.writeHead(502);
          res.end('bad gateway');
        },
      );
    },
  );
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  // LibreOffice is not on every test machine; doctor only runs the programs, so stand-ins that print a
  // version are enough for the verdict.
  fakeBin = path.join(dir, 'bin');
  mkdirSync(fakeBin);
  for (const [name, version] of [
    ['soffice', 'LibreOffice 7.4.7.2'],
    ['pdftoppm', 'pdftoppm version 22.02.0'],
  ]) {
    writeFileSync(path.join(fakeBin, name!), `#!/bin/sh\necho "${version}"\n`);
    chmodSync(path.join(fakeBin, name!), 0o755);
  }
});

afterAll(async () => {
  await new Promise<void>((resolve) => front?.close(() => resolve()));
  await relay?.close();
  await simulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('faxbridge doctor', () => {
  it('passes every check on a good set-up, and sends no mail', async () => {
    const run = await doctor(writeConfig('good'));
    expect(run.stdout).not.toMatch(/PROBLEM/);
    expect(line(run, 'Telnyx API key')).toMatch(/^ok +Telnyx API key: accepted/);
    expect(line(run, 'Telnyx connection_id')).toMatch(/^ok .*Fax Application 1293384261075731499/);
    expect(line(run, 'senders[0].from_number')).toMatch(/^ok .*\+15550001111 is on the account/);
    expect(line(run, 'http.public_url')).toMatch(/^ok .*reaches this machine/);
    expect(line(run, 'http.public_url over HTTPS')).toMatch(/^ok /);
    expect(line(run, 'telnyx.public_key')).toMatch(/^ok /);
    expect(line(run, 'mail relay')).toMatch(
      /^ok .*accepts mail from fax@fax\.example\.com to it@example\.com/,
    );
    expect(line(run, 'database')).toMatch(/^ok /);
    expect(line(run, 'storage (local)')).toMatch(/^ok /);
    expect(line(run, 'LibreOffice')).toMatch(/^ok .*LibreOffice 7/);
    expect(run.code).toBe(0);
    // Up to RCPT and no further: the relay saw a MAIL FROM but got no message.
    expect(relay.mailFroms()).toBeGreaterThan(0);
    expect(relay.messages).toHaveLength(0);
    // The Telnyx side was only read.
    expect(simulator.requests().every((entry) => entry.method === 'GET')).toBe(true);
    expect(simulator.faxes()).toHaveLength(0);
  });

  it('names a wrong API key as the problem, with the fix, and skips what needs the key', async () => {
    const run = await doctor(writeConfig('badkey', { apiKey: 'KEY_wrong' }));
    expect(run.code).toBe(1);
    expect(line(run, 'Telnyx API key')).toMatch(
      /^PROBLEM +Telnyx API key: Telnyx refused the key from telnyx\.api_key \(401/,
    );
    expect(run.stdout).toMatch(/fix: create an API key in the Telnyx portal/);
    expect(line(run, 'Telnyx connection_id')).toMatch(/^skipped .*needs a working API key/);
  });

  it('names each broken part of a set-up: application, sender number, public URL, relay', async () => {
    relay.fail({ stage: 'rcpt', code: 550 });
    try {
      const run = await doctor(
        writeConfig('broken', {
          connectionId: '999',
          fromNumber: '+15557654321',
          // The simulator is an HTTP server, but not faxbridge: a proxy pointing at the wrong place.
          publicUrl: new URL(simulator.url).origin,
        }),
      );
      expect(run.code).toBe(1);
      expect(line(run, 'Telnyx API key')).toMatch(/^ok /);
      expect(line(run, 'Telnyx connection_id')).toMatch(/^PROBLEM .*no Fax Application with id 999/);
      expect(line(run, 'senders[0].from_number')).toMatch(
        /^PROBLEM .*\+15557654321 is not a number on this Telnyx account/,
      );
      expect(line(run, 'http.public_url')).toMatch(
        /^PROBLEM .*answered HTTP 404 from something that is not faxbridge/,
      );
      expect(line(run, 'http.public_url over HTTPS')).toMatch(/^PROBLEM .*plain HTTP/);
      expect(line(run, 'mail relay')).toMatch(/^PROBLEM .*at RCPT TO: 550/);
      expect(relay.messages).toHaveLength(0);
    } finally {
      relay.fail(null);
    }
  });

  it('reports an unreachable public URL and relay in plain words', async () => {
    const closedPort = await freePort();
    const run = await doctor(
      writeConfig('unreachable', {
        publicUrl: `https://127.0.0.1:${closedPort}`,
        smtpUrl: `smtp://127.0.0.1:${closedPort}`,
      }),
    );
    expect(run.code).toBe(1);
    expect(line(run, 'http.public_url')).toMatch(/^PROBLEM .*did not answer: .*ECONNREFUSED/);
    expect(line(run, 'mail relay')).toMatch(/^PROBLEM .*at connect: .*ECONNREFUSED/);
  });

  it('recognises the running daemon behind public_url by its instance id', async () => {
    const file = writeConfig('running');
    const daemon = await startDaemonProcess({
      dir: path.join(dir, 'running'),
      yaml: readFileSync(file, 'utf8'),
    });
    try {
      const run = await doctor(file);
      expect(line(run, 'http.public_url')).toMatch(/^ok .*reaches this faxbridge$/);
      expect(run.code).toBe(0);
    } finally {
      await daemon.kill('SIGTERM');
    }
  });

  it('runs in sandbox mode against the built-in simulator', async () => {
    const data = path.join(dir, 'sandbox');
    mkdirSync(data);
    const file = path.join(dir, 'sandbox.yaml');
    writeFileSync(
      file,
      `data_dir: ${data}\nsmtp:\n  listen: 127.0.0.1:0\nhttp:\n  listen: 127.0.0.1:${httpPort}\n`,
    );
    const run = await doctor(file);
    expect(run.stdout).toMatch(/sandbox mode/);
    expect(line(run, 'Telnyx API key')).toMatch(/^ok .*sandbox: the built-in simulator/);
    expect(line(run, 'http.public_url')).toMatch(/^ok /);
    expect(line(run, 'mail relay')).toMatch(/^skipped .*\.eml file/);
    expect(run.code).toBe(0);
  });
});

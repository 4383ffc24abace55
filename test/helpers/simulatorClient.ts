import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import nacl from 'tweetnacl';

/**
 * Small real-socket helpers for talking to the Telnyx simulator in tests: a webhook receiver that keeps the
 * raw bytes (signatures are over them), a file server standing in for our media URLs, and verifiers.
 */

export interface ReceivedWebhook {
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at event JSON freely
  json: any;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides the status (and optional delay) for each incoming webhook; default 200 at once. */
  answer: (hook: ReceivedWebhook, index: number) => number | { status: number; delayMs: number };
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', received: [], answer: () => 200, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const hook: ReceivedWebhook = {
        rawBody,
        headers: req.headers,
        json: JSON.parse(rawBody.toString('utf8')),
      };
      const index = receiver.received.push(hook) - 1;
      const decision = receiver.answer(hook, index);
      const { status, delayMs } = typeof decision === 'number' ? { status: decision, delayMs: 0 } : decision;
      const timer = setTimeout(() => res.writeHead(status).end(), delayMs);
      res.on('close', () => clearTimeout(timer));
    });
  });
  receiver.url = `${await listen(server)}/webhooks/telnyx`;
  receiver.close = () => closeServer(server);
  return receiver;
}

export interface FileRoute {
  status?: number;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
}

export interface FileServer {
  origin: string;
  routes: Map<string, FileRoute>;
  hits: string[];
  close(): Promise<void>;
}

/** Serves `routes` by path; unknown paths get 404. */
export async function startFileServer(): Promise<FileServer> {
  const files: FileServer = { origin: '', routes: new Map(), hits: [], close: async () => {} };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://files').pathname;
    files.hits.push(path);
    const route = files.routes.get(path) ?? { status: 404, body: 'not found' };
    res.writeHead(route.status ?? 200, route.headers ?? { 'content-type': 'application/pdf' });
    res.end(route.body ?? '');
  });
  files.origin = await listen(server);
  files.close = () => closeServer(server);
  return files;
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function publicKeyObject(publicKeyBase64: string): KeyObject {
  const raw = Buffer.from(publicKeyBase64, 'base64');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Verifies a delivery both ways Telnyx users do: node:crypto over SPKI and tweetnacl over the raw key. */
export function verifyBothWays(
  hook: ReceivedWebhook,
  publicKeyBase64: string,
): { crypto: boolean; nacl: boolean } {
  const timestamp = String(hook.headers['telnyx-timestamp']);
  const signature = Buffer.from(String(hook.headers['telnyx-signature-ed25519']), 'base64');
  const message = Buffer.concat([Buffer.from(`${timestamp}|`, 'utf8'), hook.rawBody]);
  return {
    crypto: verify(null, message, publicKeyObject(publicKeyBase64), signature),
    nacl: nacl.sign.detached.verify(
      new Uint8Array(message),
      new Uint8Array(signature),
      new Uint8Array(Buffer.from(publicKeyBase64, 'base64')),
    ),
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function apiCall(
  url: string,
  init: { method?: string; body?: unknown; apiKey?: string; signal?: AbortSignal } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON is inspected ad hoc
): Promise<{ status: number; headers: Headers; json: any }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.apiKey !== undefined) headers.authorization = `Bearer ${init.apiKey}`;
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
    signal: init.signal,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

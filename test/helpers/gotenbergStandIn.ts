import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A small stand-in for Gotenberg (https://gotenberg.dev), speaking the part of its documented API faxbridge uses:
 * `POST /forms/libreoffice/convert` with multipart/form-data files in the field `files`, answered with the PDF
 * (`application/pdf`), 400 when a file cannot be converted, and `GET /health`. It converts with the local
 * LibreOffice, as Gotenberg does inside its container. `unavailable` makes it answer 503, as Gotenberg does while
 * starting or when its LibreOffice pool is exhausted.
 */
export interface GotenbergStandIn {
  url: string;
  /** Conversion requests received, with the file names they carried. */
  requests: string[][];
  unavailable: boolean;
  /**
   * Holds conversion requests unanswered, like a Gotenberg whose LibreOffice hangs on a file, until
   * `releaseHeld()` answers them 503; `held` counts those waiting whose client is still connected (a client that
   * gave up, as faxbridge does past documents.convert_timeout, is no longer held).
   */
  hold: boolean;
  held: number;
  releaseHeld(): void;
  close(): Promise<void>;
}

const run = promisify(execFile);

export async function startGotenbergStandIn(): Promise<GotenbergStandIn> {
  const state: GotenbergStandIn = {
    url: '',
    requests: [],
    unavailable: false,
    hold: false,
    held: 0,
    releaseHeld: () => {
      for (const release of waiting.splice(0)) release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        state.releaseHeld();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const waiting: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res, state, waiting)
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  state: GotenbergStandIn,
  waiting: Array<() => void>,
): Promise<{ status: number; type: string; body: Buffer | string }> {
  if (req.method === 'GET' && req.url === '/health')
    return { status: 200, type: 'application/json', body: '{"status":"up"}' };
  if (req.method !== 'POST' || req.url !== '/forms/libreoffice/convert')
    return { status: 404, type: 'text/plain', body: 'Not Found' };
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (state.hold) {
    state.held += 1;
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      res.once('close', resolve);
    });
    state.held -= 1;
    return { status: 503, type: 'text/plain', body: 'Service Unavailable' };
  }
  if (state.unavailable) return { status: 503, type: 'text/plain', body: 'Service Unavailable' };
  const form = await new Response(Buffer.concat(chunks), {
    headers: { 'content-type': req.headers['content-type'] ?? '' },
  }).formData();
  const files = form.getAll('files').filter((value): value is File => typeof value !== 'string');
  state.requests.push(files.map((file) => file.name));
  if (files.length !== 1)
    return { status: 400, type: 'text/plain', body: 'Bad Request: expected one file in "files"' };
  const dir = await mkdtemp(join(tmpdir(), 'gotenberg-standin-'));
  try {
    const source = join(dir, basename(files[0]!.name));
    await writeFile(source, Buffer.from(await files[0]!.arrayBuffer()));
    await run(
      'soffice',
      [
        '--headless',
        '--norestore',
        `-env:UserInstallation=file://${dir}/profile`,
        '--convert-to',
        'pdf',
        '--outdir',
        dir,
        source,
      ],
      { timeout: 120_000, env: { ...process.env, HOME: dir } },
    );
    const pdf = await readFile(source.replace(/\.[^.]+$/, '.pdf')).catch(() => null);
    if (!pdf)
      return { status: 400, type: 'text/plain', body: 'Bad Request: LibreOffice could not convert the file' };
    return { status: 200, type: 'application/pdf', body: pdf };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

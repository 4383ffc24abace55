import type Koa from 'koa';
import getRawBody from 'raw-body';

/*
 * Form bodies of the console: urlencoded (every form) and multipart (the send page's upload). Bodies are read
 * with a byte limit before anything is parsed; multipart goes through the platform's own parser (the fetch
 * Response's formData), so no parsing code of ours touches the upload.
 */

export interface UploadedFile {
  name: string;
  type: string;
  bytes: Buffer;
}

export interface ConsoleForm {
  get(name: string): string | undefined;
  getAll(name: string): string[];
  file(name: string): UploadedFile | null;
  /** Every non-empty file sent under `name`, in the order the browser sent them. */
  files(name: string): UploadedFile[];
}

/** Every form but the upload is a few fields. */
const URLENCODED_LIMIT = 64 * 1024;

export class FormError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readForm(ctx: Koa.Context, uploadLimit: number): Promise<ConsoleForm> {
  const type = (ctx.get('content-type') || '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const text = await readBody(ctx, URLENCODED_LIMIT, 'utf8');
    const params = new URLSearchParams(text);
    return {
      get: (name) => params.get(name) ?? undefined,
      getAll: (name) => params.getAll(name),
      file: () => null,
      files: () => [],
    };
  }
  if (type.startsWith('multipart/form-data')) {
    const body = await readBody(ctx, uploadLimit);
    let data: FormData;
    try {
      data = await new Response(body, { headers: { 'content-type': ctx.get('content-type') } }).formData();
    } catch {
      throw new FormError(400, 'the form could not be read; send it again from the page');
    }
    const files = new Map<string, UploadedFile[]>();
    for (const [name, value] of data.entries()) {
      if (typeof value !== 'string' && value.size > 0) {
        const list = files.get(name) ?? [];
        list.push({ name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
        files.set(name, list);
      }
    }
    const text = (value: NonNullable<ReturnType<FormData['get']>>) =>
      typeof value === 'string' ? [value] : [];
    return {
      get: (name) => text(data.get(name) ?? '')[0] ?? undefined,
      getAll: (name) => data.getAll(name).flatMap(text),
      file: (name) => files.get(name)?.[0] ?? null,
      files: (name) => files.get(name) ?? [],
    };
  }
  throw new FormError(415, 'expected a form (urlencoded or multipart)');
}

async function readBody(ctx: Koa.Context, limit: number): Promise<Buffer>;
async function readBody(ctx: Koa.Context, limit: number, encoding: 'utf8'): Promise<string>;
async function readBody(ctx: Koa.Context, limit: number, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined, encoding });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413)
      throw new FormError(413, `the upload is larger than ${Math.floor(limit / 1048576)} MB`);
    throw new FormError(400, 'the form did not arrive completely; send it again');
  }
}

import { ConvertError } from './convertErrors.js';
import { readMapiProperties } from './mapiProperties.js';

/**
 * Unwraps Outlook's winmail.dat (application/ms-tnef, [MS-OXTNEF]): the files attached inside it, with their long
 * file names. The message's own properties (its RTF body, which is the mail text, not a document) are skipped.
 * Bounded: at most MAX_ATTACHMENTS files, and every length is checked against the bytes actually present, so a
 * damaged file cannot make it read past its end or allocate more than it holds.
 *
 * Outlook nests them: a mail forwarded as an attachment from an RTF mail is an embedded message whose data is a
 * TNEF stream of its own (after a 16-byte interface id, [MS-OXTNEF] §2.1.3.4.1), and a winmail.dat can be attached
 * inside another one. Their files are unwrapped in place, in order, up to MAX_NESTING levels deep, and
 * MAX_ATTACHMENTS counts the files of every level together; deeper ones, and a nested stream that cannot be read,
 * are left out like any attachment that is not a document.
 */
export interface TnefAttachment {
  name: string;
  data: Buffer;
}

const SIGNATURE = 0x223e9f78;
const LEVEL_ATTACHMENT = 0x02;
const ATT_ATTACH_RENDDATA = 0x00069002;
const ATT_ATTACH_TITLE = 0x00018010;
const ATT_ATTACH_DATA = 0x0006800f;
const ATT_ATTACHMENT = 0x00069005;
const PR_ATTACH_DATA_BIN = 0x3701;
const PR_ATTACH_FILENAME = 0x3704;
const PR_ATTACH_METHOD = 0x3705;
const PR_ATTACH_LONG_FILENAME = 0x3707;
/** ATTACH_EMBEDDED_MSG: a whole Outlook message, not a file. */
const METHOD_EMBEDDED_MESSAGE = 5;
export const MAX_ATTACHMENTS = 50;
export const MAX_NESTING = 3;
/** IID_IMessage in front of an embedded message's TNEF stream. */
const EMBEDDED_PREFIX = 16;

export function readTnef(bytes: Buffer): TnefAttachment[] {
  return readLevel(bytes, 0, { files: 0 });
}

function readLevel(bytes: Buffer, depth: number, count: { files: number }): TnefAttachment[] {
  if (bytes.length < 6 || bytes.readUInt32LE(0) !== SIGNATURE) {
    throw new ConvertError('unreadable', 'the winmail.dat is not a TNEF file');
  }
  const found: Item[] = [];
  let at = 6;
  while (at + 9 <= bytes.length) {
    const level = bytes[at]!;
    const id = bytes.readUInt32LE(at + 1);
    const length = bytes.readUInt32LE(at + 5);
    const start = at + 9;
    if (start + length + 2 > bytes.length)
      throw new ConvertError('unreadable', 'the winmail.dat is truncated');
    const data = bytes.subarray(start, start + length);
    at = start + length + 2; // two checksum bytes follow every attribute
    if (level !== LEVEL_ATTACHMENT) continue;
    if (id === ATT_ATTACH_RENDDATA) {
      if ((count.files += 1) > MAX_ATTACHMENTS) {
        throw new ConvertError('too_large', `the winmail.dat holds more than ${MAX_ATTACHMENTS} attachments`);
      }
      found.push({});
      continue;
    }
    const current = found[found.length - 1];
    if (!current) continue;
    if (id === ATT_ATTACH_TITLE) current.title = data.toString('latin1').replace(/\0+$/, '');
    else if (id === ATT_ATTACH_DATA) current.data = data;
    else if (id === ATT_ATTACHMENT) applyProperties(current, data);
  }
  const files: TnefAttachment[] = [];
  for (const [index, item] of found.entries()) {
    const nested = item.embedded ? tnefAt(item.data, EMBEDDED_PREFIX) : tnefAt(item.data, 0);
    if (nested) {
      // A nested stream stands for its files; it is not a file of its own.
      count.files -= 1;
      if (depth + 1 < MAX_NESTING) files.push(...readNested(nested, depth + 1, count));
    } else if (!item.embedded && item.data && item.data.length > 0) {
      files.push({
        name: safeName(item.longName || item.title || `attachment-${index + 1}`),
        data: item.data,
      });
    }
  }
  return files;
}

interface Item {
  title?: string;
  longName?: string;
  data?: Buffer;
  /** An embedded Outlook message: its data is a TNEF stream after an interface id, never a file. */
  embedded?: boolean;
}

function tnefAt(data: Buffer | undefined, offset: number): Buffer | null {
  if (!data || data.length < offset + 6 || data.readUInt32LE(offset) !== SIGNATURE) return null;
  return data.subarray(offset);
}

function readNested(bytes: Buffer, depth: number, count: { files: number }): TnefAttachment[] {
  try {
    return readLevel(bytes, depth, count);
  } catch (error) {
    if (error instanceof ConvertError && error.code === 'unreadable') return [];
    throw error;
  }
}

function applyProperties(current: Item, data: Buffer): void {
  let props: ReturnType<typeof readMapiProperties>;
  try {
    props = readMapiProperties(data);
  } catch {
    return; // A damaged property list loses the long name only; the data came in its own attribute.
  }
  const longName = props.get(PR_ATTACH_LONG_FILENAME) ?? props.get(PR_ATTACH_FILENAME);
  if (typeof longName === 'string' && longName) current.longName = longName;
  const binary = props.get(PR_ATTACH_DATA_BIN);
  if (!current.data && Buffer.isBuffer(binary)) current.data = binary;
  const method = props.get(PR_ATTACH_METHOD);
  if (method === METHOD_EMBEDDED_MESSAGE) current.embedded = true;
}

/** A name for receipts and logs: no path parts, no control characters. */
function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return base.replace(/[\u0000-\u001f\u007f]/g, '').trim() || 'attachment';
}

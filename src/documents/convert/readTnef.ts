import { ConvertError } from './convertErrors.js';
import { readMapiProperties } from './mapiProperties.js';

/**
 * Unwraps Outlook's winmail.dat (application/ms-tnef, [MS-OXTNEF]): the files attached inside it, with their long
 * file names. The message's own properties (its RTF body, which is the mail text, not a document) are skipped.
 * Bounded: at most MAX_ATTACHMENTS files, and every length is checked against the bytes actually present, so a
 * damaged file cannot make it read past its end or allocate more than it holds.
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

export function readTnef(bytes: Buffer): TnefAttachment[] {
  if (bytes.length < 6 || bytes.readUInt32LE(0) !== SIGNATURE) {
    throw new ConvertError('unreadable', 'the winmail.dat is not a TNEF file');
  }
  const found: { title?: string; longName?: string; data?: Buffer; skip?: boolean }[] = [];
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
      if (found.length >= MAX_ATTACHMENTS) {
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
  return found
    .filter((item) => !item.skip && item.data && item.data.length > 0)
    .map((item, index) => ({
      name: safeName(item.longName || item.title || `attachment-${index + 1}`),
      data: item.data!,
    }));
}

function applyProperties(current: { longName?: string; data?: Buffer; skip?: boolean }, data: Buffer): void {
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
  if (method === METHOD_EMBEDDED_MESSAGE) current.skip = true;
}

/** A name for receipts and logs: no path parts, no control characters. */
function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return base.replace(/[\u0000-\u001f\u007f]/g, '').trim() || 'attachment';
}

/**
 * Writes a winmail.dat the way Outlook does ([MS-OXTNEF]): signature, legacy key, message attributes (version,
 * class, an RTF body in the message's MAPI properties), then per attachment attAttachRenddata, attAttachTitle (the
 * 8.3 name), attAttachData and attAttachment (MAPI properties with the long file name). Each attribute carries the
 * 16-bit sum of its data bytes as its checksum. Debian's `tnef` program reads what this writes, which the test
 * checks, so the encoder is not just agreeing with our own reader.
 */
export interface TnefFile {
  longName: string;
  data: Buffer;
  /**
   * An Outlook message attached to this one (forwarded as an attachment): `data` is its own TNEF stream, stored as
   * Outlook does, in PR_ATTACH_DATA_OBJ after the IID_IMessage interface id, with attach method 5.
   */
  embedded?: boolean;
}

/** IID_IMessage {00020307-0000-0000-C000-000000000046}, as its GUID bytes. */
const IID_IMESSAGE = Buffer.from('0703020000000000c000000000000046', 'hex');

const LEVEL_MESSAGE = 1;
const LEVEL_ATTACHMENT = 2;

function attribute(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = level;
  head.writeUInt32LE(id >>> 0, 1);
  head.writeUInt32LE(data.length, 5);
  let sum = 0;
  for (const byte of data) sum = (sum + byte) & 0xffff;
  const checksum = Buffer.alloc(2);
  checksum.writeUInt16LE(sum);
  return Buffer.concat([head, data, checksum]);
}

const pad4 = (data: Buffer): Buffer => Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);

/** One MAPI property list with string8 and binary values. */
function mapiProps(
  props: { id: number; type: 0x1e | 0x102 | 0x0d | 0x03; value: Buffer | number }[],
): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]!.writeUInt32LE(props.length);
  for (const prop of props) {
    const tag = Buffer.alloc(4);
    tag.writeUInt16LE(prop.type, 0);
    tag.writeUInt16LE(prop.id, 2);
    parts.push(tag);
    if (typeof prop.value === 'number') {
      const value = Buffer.alloc(4);
      value.writeInt32LE(prop.value);
      parts.push(value);
    } else {
      const header = Buffer.alloc(8);
      header.writeUInt32LE(1, 0);
      header.writeUInt32LE(prop.value.length, 4);
      parts.push(header, pad4(prop.value));
    }
  }
  return Buffer.concat(parts);
}

export function encodeTnef(files: TnefFile[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00])];
  parts.push(attribute(LEVEL_MESSAGE, 0x00089006, Buffer.from([0x00, 0x00, 0x01, 0x00]))); // attTnefVersion
  parts.push(attribute(LEVEL_MESSAGE, 0x00078008, Buffer.from('IPM.Microsoft Mail.Note\0', 'latin1')));
  // The mail body as Outlook's compressed RTF (PR_RTF_COMPRESSED): text, not a document, and must be skipped.
  const rtf = Buffer.from('{\\rtf1 Please fax the attached.}', 'latin1');
  parts.push(attribute(LEVEL_MESSAGE, 0x00069003, mapiProps([{ id: 0x1009, type: 0x102, value: rtf }])));
  files.forEach((file, index) => {
    const renddata = Buffer.alloc(14);
    renddata.writeUInt16LE(1, 0); // attachment type: file
    renddata.writeUInt32LE(0xffffffff, 2); // position: none
    parts.push(attribute(LEVEL_ATTACHMENT, 0x00069002, renddata));
    const shortName = `ATT${String(index + 1).padStart(5, '0')}.DAT\0`;
    parts.push(attribute(LEVEL_ATTACHMENT, 0x00018010, Buffer.from(shortName, 'latin1')));
    if (file.embedded) {
      parts.push(
        attribute(
          LEVEL_ATTACHMENT,
          0x00069005,
          mapiProps([
            { id: 0x3705, type: 0x03, value: 5 }, // PR_ATTACH_METHOD: embedded message
            { id: 0x3707, type: 0x1e, value: Buffer.from(`${file.longName}\0`, 'latin1') },
            { id: 0x3701, type: 0x0d, value: Buffer.concat([IID_IMESSAGE, file.data]) }, // PR_ATTACH_DATA_OBJ
          ]),
        ),
      );
      return;
    }
    parts.push(attribute(LEVEL_ATTACHMENT, 0x0006800f, file.data));
    parts.push(
      attribute(
        LEVEL_ATTACHMENT,
        0x00069005,
        mapiProps([
          { id: 0x3705, type: 0x03, value: 1 }, // PR_ATTACH_METHOD: by value
          { id: 0x3707, type: 0x1e, value: Buffer.from(`${file.longName}\0`, 'latin1') },
        ]),
      ),
    );
  });
  return Buffer.concat(parts);
}

/**
 * Reads a MAPI property list as TNEF stores it ([MS-OXTNEF] §2.1.3.4 "MsgPropertyList"): a count, then for each
 * property its type and id (plus a name for named properties), then its value(s), each padded to 4 bytes. Only
 * string, binary and 32-bit integer values are kept, which is all an attachment's name, data and kind need.
 */
export type MapiValue = string | Buffer | number;

const PT_STRING8 = 0x001e;
const PT_UNICODE = 0x001f;
const PT_BINARY = 0x0102;
const PT_OBJECT = 0x000d;
const PT_LONG = 0x0003;
const MULTI = 0x1000;
const VARIABLE = new Set([PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT]);
const FIXED_SIZES: Record<number, number> = {
  0x0001: 4,
  0x0002: 4,
  0x0003: 4,
  0x0004: 4,
  0x0005: 8,
  0x0006: 8,
  0x0007: 8,
  0x000a: 4,
  0x000b: 4,
  0x0014: 8,
  0x0040: 8,
  0x0048: 16,
};
/** No real attachment has more; a larger count is a damaged or hostile file. */
const MAX_PROPERTIES = 1000;

const pad4 = (n: number): number => (n + 3) & ~3;

export function readMapiProperties(data: Buffer): Map<number, MapiValue> {
  const props = new Map<number, MapiValue>();
  if (data.length < 4) return props;
  const count = Math.min(data.readUInt32LE(0), MAX_PROPERTIES);
  let at = 4;
  const need = (n: number) => {
    if (at + n > data.length) throw new RangeError('MAPI property list is truncated');
  };
  for (let i = 0; i < count; i++) {
    need(4);
    const type = data.readUInt16LE(at);
    const id = data.readUInt16LE(at + 2);
    at += 4;
    if (id >= 0x8000) {
      need(20);
      const kind = data.readUInt32LE(at + 16);
      at += 20;
      if (kind === 0) {
        at += 4;
      } else {
        need(4);
        at += 4 + pad4(data.readUInt32LE(at));
      }
    }
    const base = type & ~MULTI;
    if (VARIABLE.has(base)) {
      need(4);
      const values = data.readUInt32LE(at);
      at += 4;
      for (let v = 0; v < values; v++) {
        need(4);
        const length = data.readUInt32LE(at);
        at += 4;
        need(length);
        const bytes = data.subarray(at, at + length);
        if (v === 0 && id < 0x8000) props.set(id, decodeValue(base, bytes));
        at += pad4(length);
      }
    } else {
      const size = FIXED_SIZES[base];
      if (size === undefined) throw new RangeError(`unknown MAPI property type ${base}`);
      const values = type & MULTI ? (need(4), data.readUInt32LE((at += 4) - 4)) : 1;
      need(size * values);
      if (base === PT_LONG && values === 1 && id < 0x8000) props.set(id, data.readInt32LE(at));
      at += size * values;
    }
  }
  return props;
}

function decodeValue(type: number, bytes: Buffer): MapiValue {
  if (type === PT_STRING8) return bytes.toString('latin1').replace(/\0+$/, '');
  if (type === PT_UNICODE) return bytes.toString('utf16le').replace(/\0+$/, '');
  return bytes;
}

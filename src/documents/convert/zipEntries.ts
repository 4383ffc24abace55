/**
 * Names of the entries of a ZIP file, read from local file headers in the bytes given. Office Open XML and
 * OpenDocument files are ZIPs, told apart from a plain archive (and from each other) by the entries they hold:
 * `[Content_Types].xml` with `word/`, `xl/` or `ppt/` parts, or an ODF `mimetype` entry that the ODF spec requires
 * to come first and uncompressed. Only headers inside the bytes given are read; nothing is decompressed.
 */
const LOCAL_HEADER = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const MAX_ENTRIES = 2000;

export interface ZipEntryPeek {
  name: string;
  /** The stored (uncompressed) data when the entry is stored and fits in the bytes given, else null. */
  stored: Buffer | null;
}

export function peekZipEntries(bytes: Buffer): ZipEntryPeek[] {
  const entries: ZipEntryPeek[] = [];
  let offset = 0;
  while (offset + LOCAL_HEADER_SIZE <= bytes.length && entries.length < MAX_ENTRIES) {
    if (bytes.readUInt32LE(offset) !== LOCAL_HEADER) break;
    const flags = bytes.readUInt16LE(offset + 6);
    const method = bytes.readUInt16LE(offset + 8);
    const compressedSize = bytes.readUInt32LE(offset + 18);
    const nameLength = bytes.readUInt16LE(offset + 26);
    const extraLength = bytes.readUInt16LE(offset + 28);
    const nameStart = offset + LOCAL_HEADER_SIZE;
    if (nameStart + nameLength > bytes.length) break;
    const name = bytes.toString('utf8', nameStart, nameStart + nameLength);
    const dataStart = nameStart + nameLength + extraLength;
    const dataEnd = dataStart + compressedSize;
    const stored = method === 0 && dataEnd <= bytes.length ? bytes.subarray(dataStart, dataEnd) : null;
    entries.push({ name, stored });
    // Bit 3: sizes follow the data in a descriptor, so the next header cannot be found without inflating.
    if (flags & 0x08) break;
    offset = dataEnd;
  }
  return entries;
}

const CENTRAL_HEADER = 0x02014b50;
const CENTRAL_HEADER_SIZE = 46;

/**
 * Entry names from the central directory at the end of a ZIP (the authoritative list, which files made by some
 * tools need because their first local entries say nothing). `tail` is the file's last bytes; names whose
 * directory record starts before `tail` are not seen.
 */
export function centralDirectoryNames(tail: Buffer): string[] {
  const names: string[] = [];
  let offset = tail.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  while (offset !== -1 && offset + CENTRAL_HEADER_SIZE <= tail.length && names.length < MAX_ENTRIES) {
    if (tail.readUInt32LE(offset) !== CENTRAL_HEADER) break;
    const nameLength = tail.readUInt16LE(offset + 28);
    const extraLength = tail.readUInt16LE(offset + 30);
    const commentLength = tail.readUInt16LE(offset + 32);
    const nameStart = offset + CENTRAL_HEADER_SIZE;
    if (nameStart + nameLength > tail.length) break;
    names.push(tail.toString('utf8', nameStart, nameStart + nameLength));
    offset = nameStart + nameLength + extraLength + commentLength;
  }
  return names;
}

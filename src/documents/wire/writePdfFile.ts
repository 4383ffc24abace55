import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

import { type PDFContext, type PDFDocument, type PDFObject, PDFStream, PDFWriter } from 'pdf-lib';

/**
 * Saves a pdf-lib document to a file without building it in memory first. `PDFDocument.save()` returns the whole
 * file as one Uint8Array: for a 50 MB scan with a header line that is another 50 MB on top of the source the pages
 * were copied from. Here the objects are written one after another, and a large stream's data goes to the file
 * straight from where pdf-lib holds it (for pages copied from a loaded document, a view of the loaded bytes).
 *
 * The layout is pdf-lib's own `PDFWriter` (a classic cross-reference table, no object streams): its
 * `computeBufferSize` numbers the objects and places them, and each object is written at the offset it computed.
 */
export interface WrittenPdf {
  size: number;
  sha256: string;
}

/** Streams longer than this are written from their own bytes rather than copied into a buffer of their own. */
const LARGE_STREAM_BYTES = 64 * 1024;

export async function writePdfFile(doc: PDFDocument, path: string): Promise<WrittenPdf> {
  // What save() does before serializing: embed the fonts, images and pages drawn so far.
  await doc.flush();
  const out = createWriteStream(path, { flags: 'wx' });
  const hash = createHash('sha256');
  let size = 0;
  const failed = once(out, 'error').then(([error]) => Promise.reject(error as Error));
  failed.catch(() => undefined);
  const write = async (bytes: Uint8Array): Promise<void> => {
    hash.update(bytes);
    size += bytes.length;
    if (!out.write(bytes)) await Promise.race([once(out, 'drain'), failed]);
  };
  try {
    await FileWriter.forContextOf(doc.context).writeTo(write);
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
  } catch (error) {
    out.destroy();
    throw error;
  }
  return { size, sha256: hash.digest('hex') };
}

class FileWriter extends PDFWriter {
  static forContextOf(context: PDFContext): FileWriter {
    // 50 objects between yields to the event loop, as save() does.
    return new FileWriter(context, 50);
  }

  async writeTo(write: (bytes: Uint8Array) => Promise<void>): Promise<void> {
    const { header, indirectObjects, xref, trailerDict, trailer } = await this.computeBufferSize();
    await write(concat(bytesOf(header), text('\n\n')));
    for (const [ref, object] of indirectObjects) {
      await write(text(`${ref.objectNumber} ${ref.generationNumber} obj\n`));
      if (object instanceof PDFStream && object.getContentsSize() > LARGE_STREAM_BYTES) {
        // PDFStream#copyBytesInto's layout: dictionary, `\nstream\n`, data, `\nendstream`.
        object.updateDict();
        await write(concat(bytesOf(object.dict), text('\nstream\n')));
        await write(object.getContents());
        await write(text('\nendstream'));
      } else {
        await write(bytesOf(object));
      }
      await write(text('\nendobj\n\n'));
    }
    // PDFWriter (unlike its object-stream subclass) always makes a classic table and trailer dictionary.
    if (!xref || !trailerDict) throw new Error('pdf-lib made no cross-reference table');
    await write(concat(bytesOf(xref), text('\n'), bytesOf(trailerDict), text('\n\n'), bytesOf(trailer)));
  }
}

function bytesOf(object: Pick<PDFObject, 'sizeInBytes' | 'copyBytesInto'>): Uint8Array {
  const bytes = new Uint8Array(object.sizeInBytes());
  object.copyBytesInto(bytes, 0);
  return bytes;
}

function text(value: string): Uint8Array {
  return Buffer.from(value, 'latin1');
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

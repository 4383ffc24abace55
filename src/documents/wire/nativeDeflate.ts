import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';

/**
 * pdf-lib compresses every stream it writes (page contents, the header line's embedded font) with pako, zlib
 * ported to JavaScript, which sets up and zeroes a quarter of a megabyte of state for each of the ten or so
 * streams of a transmitted PDF: about 15 % of building one in a profile. Node's own zlib does the same work
 * natively. pdf-lib gives no way to choose, so the pako instance pdf-lib itself resolves gets node's deflate
 * in its place: the same zlib format (RFC 1950) at the same default level, so every reader inflates the same
 * content. Imported for this effect by buildTransmittedPdf.ts, which runs in the document sandbox's child.
 */
const requireFromPdfLib = createRequire(createRequire(import.meta.url).resolve('pdf-lib'));
const pako = requireFromPdfLib('pako') as { deflate: (data: Uint8Array) => Uint8Array };

pako.deflate = (data) => {
  const out = deflateSync(data);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
};

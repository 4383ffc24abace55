/**
 * Plain text as mail clients attach it: UTF-8 (with or without a BOM), UTF-16 with a BOM (Windows Notepad), or a
 * legacy 8-bit code page. Binary files give themselves away by NUL bytes or control characters other than tab,
 * line feed, carriage return and form feed.
 */
export function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  if (head[0] === 0xff && head[1] === 0xfe) return true;
  if (head[0] === 0xfe && head[1] === 0xff) return true;
  let control = 0;
  for (const byte of head) {
    if (byte === 0) return false;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) {
      control += 1;
    }
  }
  // A stray control character or two occurs in real text (a pasted terminal escape); many mean binary.
  return control <= Math.max(2, head.length / 1000);
}

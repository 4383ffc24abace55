/**
 * Breaks text into lines no wider than `room` as `measure` judges: at spaces where there are some, anywhere in a
 * word too long for a line (and so between any two characters of Chinese or Japanese, which have no spaces).
 * Line breaks in the text are kept; an empty line stays an empty line.
 */
export function wrapText(text: string, room: number, measure: (candidate: string) => number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.replace(/\r\n?/g, '\n').split('\n')) {
    let line = '';
    for (const token of paragraph.split(/(\s+)/)) {
      if (token === '') continue;
      const candidate = line + token;
      if (measure(candidate) <= room) {
        line = candidate;
        continue;
      }
      if (/^\s+$/.test(token)) {
        lines.push(line);
        line = '';
        continue;
      }
      if (line.trim() !== '') lines.push(line.trimEnd());
      line = '';
      if (measure(token) <= room) {
        line = token;
        continue;
      }
      for (const char of token) {
        if (line !== '' && measure(line + char) > room) {
          lines.push(line);
          line = '';
        }
        line += char;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

import { closeSync, openSync, readSync } from 'node:fs';

import type { Config, ConfigProblem } from './types.js';

/*
 * cover.logo and cover.template are read when a cover page is made, which may be long after start: a missing
 * or wrong file must be said by check-config and at start, not found out by the first sender who asks for a
 * cover page.
 */

const LOGO_MAGIC = [
  { name: 'PNG', bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
  { name: 'JPEG', bytes: Buffer.from([0xff, 0xd8, 0xff]) },
];

export function checkCoverFiles(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { logo, template } = config.cover;
  if (logo) {
    const head = readHead(logo, 8);
    if (typeof head === 'string') problems.push({ key: 'cover.logo', message: head });
    else if (!LOGO_MAGIC.some((magic) => head.subarray(0, magic.bytes.length).equals(magic.bytes))) {
      problems.push({ key: 'cover.logo', message: `${logo} is not a PNG or JPEG image` });
    }
  }
  if (template) {
    const head = readHead(template, 1024);
    if (typeof head === 'string') problems.push({ key: 'cover.template', message: head });
    else if (!head.includes('%PDF-'))
      problems.push({ key: 'cover.template', message: `${template} is not a PDF` });
  }
  return problems;
}

/** The file's first bytes, or why it cannot be read. */
function readHead(file: string, length: number): Buffer | string {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? 'error'})`;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

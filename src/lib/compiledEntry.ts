import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled script `name` beside the module at `moduleUrl`, for code that starts a child process or a worker
 * thread on it. From dist/ it sits next to that module; when the module runs from its TypeScript source (the
 * tests), the compiled copy in dist/ is used, so `npm run build` must have run.
 */
export function compiledEntry(moduleUrl: string, name: string): string {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.js')) return join(dirname(here), name);
  const marker = `${sep}src${sep}`;
  const at = here.lastIndexOf(marker);
  const compiled = join(here.slice(0, at), 'dist', 'src', dirname(here.slice(at + marker.length)), name);
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` first`);
  return compiled;
}

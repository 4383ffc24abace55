import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'faxbridge';

/**
 * `faxbridge/<version>`, read from our package.json: every undici call carries a versioned User-Agent, so
 * the far side's logs tell which release called. The file sits a different number of levels up in `src/`
 * (tsx, vitest) and in `dist/src/`, so walk up until the package that is ours. Called once per client, at
 * boot.
 */
export function defaultUserAgent(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string')
        return `${PACKAGE_NAME}/${pkg.version}`;
    } catch {
      // No package.json here (or not readable JSON): keep climbing.
    }
    const parent = dirname(dir);
    if (parent === dir) return `${PACKAGE_NAME}/unknown`;
    dir = parent;
  }
}

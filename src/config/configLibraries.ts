import { createRequire } from 'node:module';

import type * as Yaml from 'yaml';
import type * as Zod from 'zod';

/** What reading and validating the configuration needs, and nothing after it. */
export interface ConfigLibraries {
  parseDocument: typeof Yaml.parseDocument;
  z: typeof Zod.z;
}

/**
 * Runs `use` with yaml and zod, then lets both go. The daemon reads its configuration once, at start, and never
 * again, but a module loaded by `import` stays loaded for the life of the process: zod (its schemas, checks and
 * 48 locales, ~1.5 MB of source) and yaml (72 files) would hold ~3-4 MiB of an idle daemon's ~80 for nothing
 * (bench/README.md, "Idle memory"). So they are loaded with `require` (both ship CommonJS for Node) and taken
 * out of the require cache afterwards; with no one holding them, the next full collection frees their code.
 * Modules that were already in the cache before the call (a test that imports yaml itself) are left as they are.
 * `use` must be synchronous and must not keep anything of zod's: the schema is built inside it and dropped.
 */
export function withConfigLibraries<T>(
  use: (libraries: ConfigLibraries) => T,
  { letGo }: { letGo: boolean },
): T {
  const require = createRequire(import.meta.url);
  const loadedBefore = new Set(Object.keys(require.cache));
  try {
    const { parseDocument } = require('yaml') as typeof Yaml;
    const { z } = require('zod') as typeof Zod;
    return use({ parseDocument, z });
  } finally {
    // Only for the daemon, which reads its configuration once: anything else that reads it (check-config, doctor,
    // tests that start many daemons in one process) keeps them, rather than compile them again (~120 ms) each time.
    if (letGo) {
      for (const file of Object.keys(require.cache)) {
        if (!loadedBefore.has(file)) delete require.cache[file];
      }
    }
  }
}

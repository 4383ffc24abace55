import type * as Http from 'node:http';

import { requireCommonJs } from './requireCommonJs.js';

/** What src/ uses of node:http, required, not imported (requireCommonJs.ts says why). */
export const { createServer, STATUS_CODES } = requireCommonJs('node:http') as typeof Http;

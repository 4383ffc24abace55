import type KoaRouter from '@koa/router';

import { requireCommonJs } from './requireCommonJs.js';

/** @koa/router's CommonJS build (requireCommonJs.ts says why). */
export const Router = requireCommonJs('@koa/router') as typeof KoaRouter;

import { createRequire } from 'node:module';

/**
 * `require`, for node:http and for the packages whose ES module build imports it (smtp-server's, through
 * nodemailer's; @koa/router's; nodemailer's own): src/ loads their CommonJS build instead.
 *
 * Why: on Node 24 an `import` of node:http, ours or one inside a package, makes Node build the module's namespace
 * from every one of its exports, and reading `http.WebSocket` and its neighbours loads Node's own fetch (its bundled
 * undici, 750 KB of source) that the daemon never uses: 3 MiB more of an idle daemon's memory (docs/dependencies.md,
 * "Node 24: `import` of node:http"). `require` reads only what it is asked for. Node 20's node:http has no such
 * exports. eslint.config.js refuses the `import` of these in src/ (types excepted).
 */
export const requireCommonJs = createRequire(import.meta.url);

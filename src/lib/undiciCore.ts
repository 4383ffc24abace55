import { createRequire } from 'node:module';

import type * as Undici from 'undici';

/**
 * The three parts of undici the daemon's own HTTP calls use (Telnyx's API, received faxes' media), loaded from
 * undici's own files. Its index also loads fetch, WebSocket, EventSource, the proxy, mock and retry agents and the
 * cache stores: ~7 MiB of RSS that an idle daemon would carry unused (bench/README.md, "Idle RSS and the 50 MB
 * PDF"). undici is pinned to one version (package.json), and test/unit/undiciCore.request.test.ts checks that these are
 * the very objects its index exports and that `request` answers as the index's does.
 */
const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
/** What `buildConnector` makes: undici's `connect` option. */
export type Connector = Undici.buildConnector.connector;

const requestOnDispatcher = require('undici/lib/api/api-request.js') as (
  this: Undici.Dispatcher,
  options: Undici.Dispatcher.RequestOptions,
) => Promise<Undici.Dispatcher.ResponseData>;
const { parseURL } = require('undici/lib/core/util.js') as { parseURL(url: string | URL): URL };

export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Undici.Dispatcher.HttpMethod;
  /** Always given: the daemon never uses undici's global dispatcher. */
  dispatcher: Undici.Dispatcher;
};

/** undici's `request(url, options)` (its index.js `makeDispatcher`), for a URL and an explicit dispatcher. */
export function request(url: string | URL, options: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  const target = parseURL(url);
  return requestOnDispatcher.call(dispatcher, {
    ...rest,
    origin: target.origin,
    path: target.search ? `${target.pathname}${target.search}` : target.pathname,
    method: rest.method ?? (rest.body ? 'PUT' : 'GET'),
  });
}

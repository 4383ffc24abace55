import type { InjectedResponse } from './types.js';

/**
 * Scripted answers for the next requests to a path, so tests can produce 429s, 5xx, hangs and resets on
 * demand. Keys are `METHOD /path` relative to `/v2` (`POST /faxes`, `GET /faxes/{id}` or a concrete
 * `GET /faxes/<uuid>`); a leading `/v2` is accepted and a key without a method matches every method.
 */
export interface InjectionQueue {
  add(key: string, responses: InjectedResponse[]): void;
  /**
   * Takes the next injection for this request: exact path first, then its route template. One whose
   * `whenQuery` this request does not satisfy stays queued for a later request.
   */
  take(
    method: string,
    path: string,
    template: string | null,
    query?: URLSearchParams,
  ): InjectedResponse | undefined;
}

export function normalizeInjectionKey(key: string): string {
  const match = /^\s*(?:([A-Za-z]+)\s+)?(\S+)\s*$/.exec(key);
  if (!match) throw new Error(`injectResponses: cannot read path ${JSON.stringify(key)}`);
  const method = (match[1] ?? '*').toUpperCase();
  const path = match[2]!.replace(/^\/v2(?=\/)/, '').replace(/\/+$/, '') || '/';
  return `${method} ${path}`;
}

export function makeInjectionQueue(): InjectionQueue {
  const queues = new Map<string, InjectedResponse[]>();

  function shift(key: string, query: URLSearchParams | undefined): InjectedResponse | undefined {
    const queue = queues.get(key);
    const index = queue?.findIndex((response) => fitsQuery(response, query)) ?? -1;
    if (!queue || index < 0) return undefined;
    const [next] = queue.splice(index, 1);
    if (queue.length === 0) queues.delete(key);
    return next;
  }

  return {
    add(key, responses) {
      const normalized = normalizeInjectionKey(key);
      queues.set(normalized, [...(queues.get(normalized) ?? []), ...responses]);
    },
    take(method, path, template, query) {
      const candidates = [`${method} ${path}`, `* ${path}`];
      if (template !== null) candidates.push(`${method} ${template}`, `* ${template}`);
      for (const key of candidates) {
        const next = shift(key, query);
        if (next) return next;
      }
      return undefined;
    },
  };
}

/** True when every `whenQuery` parameter has that value in the request (the daemon's other GET /faxes pass by). */
function fitsQuery(response: InjectedResponse, query: URLSearchParams | undefined): boolean {
  if (!response.whenQuery) return true;
  return Object.entries(response.whenQuery).every(([name, value]) => query?.get(name) === value);
}

import type { Logger } from '../log.js';

/**
 * pdf-lib 1.17.1 reports parser trouble ("Trying to parse invalid object", "Invalid object ref", "Removing parsed
 * object: 0 0 R") with `console.warn` and offers no hook (docs/dependencies.md, pdf-lib). The daemon's stdout
 * must stay JSON, so while pdf-lib works we route `console.warn` to the pino logger at debug level.
 *
 * pdf-lib's parser yields to the event loop every 100 objects, so several loads can overlap. The redirect is
 * therefore shared: the first caller installs it, each caller registers its logger, and the last one out puts the
 * original back. The bookkeeping lives on the installed function itself (found through a registry symbol), because
 * `console` is the only place every overlapping caller can see.
 */
const REDIRECT_STATE = Symbol.for('faxbridge.pdfLibWarningRedirect');

interface RedirectState {
  original: Console['warn'];
  /** One entry per running call (an object each, so two calls with the same logger count twice). */
  callers: Set<{ log: Logger | undefined }>;
}

type RedirectingWarn = Console['warn'] & { [REDIRECT_STATE]?: RedirectState };

export async function withPdfLibWarningsRedirected<T>(
  log: Logger | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const state = installRedirect();
  const caller = { log };
  state.callers.add(caller);
  try {
    return await work();
  } finally {
    state.callers.delete(caller);
    if (state.callers.size === 0) uninstallRedirect(state);
  }
}

function installRedirect(): RedirectState {
  // eslint-disable-next-line no-console -- reading the current console.warn to wrap it, see the header comment
  const current = console.warn as RedirectingWarn;
  const existing = current[REDIRECT_STATE];
  if (existing) return existing;
  const state: RedirectState = { original: current, callers: new Set() };
  const redirect: RedirectingWarn = (...args: unknown[]) => {
    const message = args.map((arg) => (typeof arg === 'string' ? arg : String(arg))).join(' ');
    // Overlapping loads cannot be told apart, so the warning goes to the first caller that has a logger.
    for (const { log: logger } of state.callers) {
      if (logger) return logger.debug({ pdfLibWarning: message }, 'pdf-lib parser warning');
    }
  };
  redirect[REDIRECT_STATE] = state;
  // eslint-disable-next-line no-console -- the one sanctioned replacement of console.warn, see the header comment
  console.warn = redirect;
  return state;
}

function uninstallRedirect(state: RedirectState): void {
  // eslint-disable-next-line no-console -- restoring what installRedirect replaced
  const current = console.warn as RedirectingWarn;
  // Someone else replaced console.warn after us (a test spy, say): leave theirs alone.
  // eslint-disable-next-line no-console -- restoring what installRedirect replaced
  if (current[REDIRECT_STATE] === state) console.warn = state.original;
}

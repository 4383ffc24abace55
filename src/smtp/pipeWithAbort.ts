import type { Readable, Transform } from 'node:stream';

/**
 * `input.pipe(target)` plus what pipe() leaves out: when `input` fails or closes before its end (the client
 * went away mid-DATA, the DATA deadline cut it off, shutdown), `target` is destroyed with an error, so whoever
 * reads `target` finishes instead of waiting forever with the message's work files open.
 */
export function pipeWithAbort<T extends Transform>(input: Readable, target: T): T {
  const abort = (error?: Error) => {
    if (!target.destroyed) target.destroy(error ?? new Error('the message did not arrive in full'));
  };
  const onError = (error: Error) => abort(error);
  const onClose = () => {
    if (!input.readableEnded) abort();
  };
  input.on('error', onError);
  input.once('close', onClose);
  target.once('close', () => {
    input.off('error', onError);
    input.off('close', onClose);
  });
  if (input.destroyed && !input.readableEnded) abort();
  // Whoever reads `target` sees its error through their own listener; this one keeps an error that arrives after
  // they let go (the parse already ended) from becoming an uncaught exception that would end the daemon.
  target.on('error', () => undefined);
  return input.pipe(target);
}

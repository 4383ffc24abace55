import type { Readable } from 'node:stream';

/**
 * A signal that fires when the message stream stops before its end: the client went away mid-DATA (smtp-server
 * then destroys the stream it gave onData), the DATA deadline cut it off, or the listener closed. A signal keeps
 * that state; the stream's 'error' and 'close' are events that a reader attached after them never hears. The parse
 * starts only once the message's work folder exists, so a client that leaves in between would leave it waiting
 * for bytes that never come, with its work files kept until a restart.
 *
 * Call it before the first `await` of the transaction, while nothing can have happened to the stream unseen.
 */
export function abortWhenCutOff(stream: Readable): AbortSignal {
  const controller = new AbortController();
  const cut = (error?: Error): void => {
    if (controller.signal.aborted || stream.readableEnded) return;
    controller.abort(error ?? new Error('the message did not arrive in full'));
  };
  // Stays attached while the stream lives: an error is a cut-off, never an uncaught exception.
  stream.on('error', (error: Error) => cut(error));
  stream.once('close', () => cut());
  if (stream.destroyed) cut(stream.errored ?? undefined);
  return controller.signal;
}

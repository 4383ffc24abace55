import type { ExtractedMessage } from '../extractDocuments.js';
import type { ExtractLimits } from '../extractLimits.js';

/**
 * The messages between the daemon and its MIME readers (mimeReaders.ts, readerEntry.ts), over the child's IPC
 * channel with Node's "advanced" serialization (bytes and dates pass as they are). One reader reads several
 * messages at once, so every message names its task. A message's bytes travel in `chunk`s, each acknowledged once
 * the reader's buffer in front of its parser has room for it, which is how the sender's stream is slowed to the
 * parser's pace.
 */
export type ToMimeReader =
  | { type: 'start'; task: number; workDir: string; limits: Partial<ExtractLimits> }
  | { type: 'chunk'; task: number; bytes: Uint8Array }
  | { type: 'end'; task: number }
  /** The message stopped before its end (client gone, DATA deadline, listener closed). */
  | { type: 'cut'; task: number; reason: string }
  /** Answered with a pong at once: a reader that does not is stuck (mimeReaders.ts, the stall watchdog). */
  | { type: 'ping' };

export type FromMimeReader =
  | { type: 'taken'; task: number; bytes: number }
  | { type: 'done'; task: number; message: ExtractedMessage }
  | { type: 'failed'; task: number; error: ReaderError }
  | { type: 'pong' };

/** An error as it crosses the process boundary: what the SMTP reply needs, nothing that holds a stack of objects. */
export interface ReaderError {
  message: string;
  /** Node's error code of a failed system call (ENOSPC, EMFILE…), when it was one. */
  systemCode?: string;
  /** A FaxError's code and SMTP reply, when it was one. */
  faxCode?: string;
  smtpCode?: number;
  enhancedCode?: string;
}

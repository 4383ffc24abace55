import type { Logger } from '../../log.js';
import type { convertDocumentTask, unwrapTnefTask } from './convertTasks.js';
import type { countPdfPagesTask, inspectPdfTask, mergePdfsTask } from './pdfTasks.js';
import type { preparePdfTask } from './preparePdfTask.js';
import type { buildTransmittedTask, firstPagePngTask } from './wireTasks.js';

/**
 * Every piece of work the document sandbox can do, by name. This map is loaded only inside the sandbox's child
 * process (sandboxChild.ts); the daemon imports its types, never its code, so no parser ever runs in the daemon.
 *
 * To add a task (an image, TIFF, Office or text conversion):
 * 1. write `async function myTask(input: MyInput, context: SandboxTaskContext): Promise<MyOutput>` in its own
 *    module; input and output must survive JSON (plain objects, strings, numbers), so pass files by path and
 *    write results to a path the caller chose, never bytes;
 * 2. add its loader to `sandboxTasks` and its type to `SandboxTasks` below;
 * 3. call it from the daemon with `sandbox.run('myTask', input)`, which is typed from this map, and turn an
 *    outcome that is not `ok` (killed for memory or time, or crashed) into a refusal of the document.
 * A task may block its process as long as it likes and allocate freely: the parent kills it at the limits.
 */
export interface SandboxTaskContext {
  /** Goes to the daemon's log at debug level (the lines travel back with the reply). */
  log: Logger;
}

/*
 * Each task's module is loaded only by the child that runs it: a child counting a PDF's pages should not spend
 * half a second loading the image and Office converters (sharp, the HEIC decoder) first.
 */
export const sandboxTasks: { [N in keyof SandboxTasks]: () => Promise<SandboxTasks[N]> } = {
  inspectPdf: async () => (await import('./pdfTasks.js')).inspectPdfTask,
  mergePdfs: async () => (await import('./pdfTasks.js')).mergePdfsTask,
  countPdfPages: async () => (await import('./pdfTasks.js')).countPdfPagesTask,
  convertDocument: async () => (await import('./convertTasks.js')).convertDocumentTask,
  unwrapTnef: async () => (await import('./convertTasks.js')).unwrapTnefTask,
  buildTransmitted: async () => (await import('./wireTasks.js')).buildTransmittedTask,
  preparePdf: async () => (await import('./preparePdfTask.js')).preparePdfTask,
  firstPagePng: async () => (await import('./wireTasks.js')).firstPagePngTask,
};

export interface SandboxTasks {
  inspectPdf: typeof inspectPdfTask;
  mergePdfs: typeof mergePdfsTask;
  countPdfPages: typeof countPdfPagesTask;
  convertDocument: typeof convertDocumentTask;
  unwrapTnef: typeof unwrapTnefTask;
  buildTransmitted: typeof buildTransmittedTask;
  preparePdf: typeof preparePdfTask;
  firstPagePng: typeof firstPagePngTask;
}
export type SandboxTaskName = keyof SandboxTasks;
export type SandboxTaskInput<N extends SandboxTaskName> = Parameters<SandboxTasks[N]>[0];
export type SandboxTaskOutput<N extends SandboxTaskName> = Awaited<ReturnType<SandboxTasks[N]>>;

/** What the parent sends (one message, then the child does that one task and exits). */
export interface SandboxRequest {
  task: string;
  input: unknown;
  /** Run with V8's heap kept small (leanHeap.ts `optimizeForSize`): a large input, or one of unknown size. */
  leanHeap: boolean;
}

/** What the child answers. `error` is a task that threw: a bug or an input no check foresaw. */
export type SandboxReply = ({ ok: true; value: unknown } | { ok: false; error: string }) & {
  /** The task's log lines (pino JSON), for the daemon's log. */
  log?: string[];
};

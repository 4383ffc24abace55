import type { Paper } from './paper.js';

/** What every converter is told; plain data, so it crosses into the sandbox child unchanged. */
export interface ConvertOptions {
  paper: Paper;
  /** Milliseconds a converter may take before it is stopped (documents.convert_timeout). */
  timeoutMs: number;
  /** More pages than this is refused as too large (a fax of hundreds of pages is a mistake, and costs money). */
  maxPages?: number;
}

export interface ConvertResult {
  pages: number;
}

/** Matches the limit the intake applies to PDFs it is given. */
export const DEFAULT_MAX_PAGES = 350;

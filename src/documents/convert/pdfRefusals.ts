/**
 * What a sender is told about a PDF that cannot be faxed, worded as inspectPdf.ts words it (the intake's own check,
 * which a sender's PDF now gets in convertPdf.ts instead): the same file gets the same answer whichever step finds
 * the problem. Kept apart so the sandbox's PDF step does not load the daemon-side inspection and its sandbox
 * client; test/unit/documents.convertPdf.test.ts checks that the two agree.
 */
export const PROBLEM_NEEDS_PASSWORD = 'needs a password to open';
export const PROBLEM_UNREADABLE = 'is damaged or not a PDF (cannot be read)';
export const PROBLEM_NO_PAGES = 'has no pages';

export function tooComplex(why: string): string {
  return `is too complex to fax (${why}); print it to a new PDF and send that instead`;
}

export function tooManyPages(pages: number, maxPages: number): string {
  return `has ${pages} pages; the most a fax can carry is ${maxPages}`;
}

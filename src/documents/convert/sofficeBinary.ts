/**
 * The LibreOffice launcher both the converter starts and the start-up check looks for on PATH. Its own module so
 * that the daemon's start-up check (findOfficeConverter.ts) does not load the converter, and with it pdf-lib,
 * in a process that converts nothing itself (bench/idleRss.ts).
 */
export const SOFFICE_BINARY = 'soffice';

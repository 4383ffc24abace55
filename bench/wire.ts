import { parseArgs } from 'node:util';

import { PDFDocument, StandardFonts } from 'pdf-lib';

import { buildTransmittedPdf, type TransmitRequest } from '../src/documents/wire/buildTransmittedPdf.js';

/*
 * What the header line and the cover page cost per fax: buildTransmittedPdf on a 20-page text PDF, timed in
 * this process (median of --runs after one warm-up that also loads the fonts), with peak RSS (maxRSS of the
 * process, so it includes Node itself; the baseline before the first build is printed beside it).
 *
 * Usage: npm run build && node dist/bench/wire.js [--runs 20] [--pages 20] [--japanese]
 */
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    pages: { type: 'string', default: '20' },
    japanese: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const pages = Number(values.pages);

async function sourcePdf(count: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= count; n += 1) {
    const page = doc.addPage([612, 792]);
    for (let line = 0; line < 50; line += 1) {
      page.drawText(`Page ${n}, line ${line}: the quick brown fox jumps over the lazy dog 0123456789.`, {
        x: 54,
        y: 740 - line * 14,
        size: 10,
        font,
      });
    }
  }
  return doc.save();
}

function request(document: Uint8Array, cover: boolean, header: boolean): TransmitRequest {
  return {
    document,
    headerText: header
      ? '{date} {time}  FROM: {from_name}  {from_number}  TO: {to_number}  P.{page}/{pages}'
      : null,
    header: {
      date: '2025-03-04',
      time: '09:15 UTC',
      from_name: values.japanese ? '山田 歯科' : 'Example Dental',
      from_number: '+15550001111',
      to_number: '+15557654321',
    },
    cover: cover
      ? {
          values: {
            to: 'Dr. Jane Smith',
            to_number: '+15557654321',
            from: 'Zoë Müller',
            from_email: 'zoe@example.com',
            from_number: '+15550001111',
            date: '2025-03-04 09:15 UTC',
            subject: values.japanese ? '請求書の件' : 'Referral',
            comments: 'Please see the attached referral.\n'.repeat(10),
            notice: 'CONFIDENTIAL',
          },
          logo: null,
          template: null,
        }
      : null,
  };
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

async function measure(label: string, document: Uint8Array, cover: boolean, header: boolean) {
  await buildTransmittedPdf(request(document, cover, header));
  const times: number[] = [];
  let size = 0;
  for (let run = 0; run < runs; run += 1) {
    const start = process.hrtime.bigint();
    const built = await buildTransmittedPdf(request(document, cover, header));
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    size = built.pdf.length;
  }
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${label.padEnd(22)} median ${median(times).toFixed(1).padStart(7)} ms  max ${Math.max(...times)
      .toFixed(1)
      .padStart(7)} ms  output ${(size / 1024).toFixed(0)} KB  peak RSS so far ${rss.toFixed(0)} MB`,
  );
}

const document = await sourcePdf(pages);
console.log(
  `${pages}-page PDF (${(document.length / 1024).toFixed(0)} KB), ${runs} runs${values.japanese ? ', Japanese texts' : ''}; baseline RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);
await measure('copy only (no header)', document, false, false);
await measure('header line', document, false, true);
await measure('header + cover', document, true, true);

import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { PDFDocument, StandardFonts } from 'pdf-lib';

import { convertDocument } from '../src/documents/convert/convertDocument.js';
import { sniffDocumentFile } from '../src/documents/convert/sniffDocumentKind.js';
import { libreOfficeConvert, MAGICK, makeFaxTiff, makeFixtureDir } from '../test/helpers/documentFixtures.js';
import { makePdf } from '../test/helpers/pdfFixtures.js';
import { waitForIdleMachine } from './lib/machine.js';
import { round } from './lib/stats.js';

/*
 * Conversion time and peak memory per kind of attachment: a sender's PDF already on the paper (checked, not
 * rewritten) and one that is flattened and fitted, a 12-megapixel phone photo, a 20-page fax TIFF and a 10-page
 * DOCX (LibreOffice). Each conversion runs in a fresh Node process under GNU time, as it will in the
 * document sandbox, so the figures include start-up and, for DOCX, the soffice processes (their peak RSS is folded
 * into the child's by wait4). Median of --runs.
 *
 * Usage: npm run build && node dist/bench/convert.js [--runs 3]
 * Needs Debian's imagemagick, libreoffice-writer-nogui and time.
 */
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, child: { type: 'string' } },
  allowPositionals: true,
});

if (values.child) {
  const kind = await sniffDocumentFile(values.child);
  const result = await convertDocument(kind, values.child, `${values.child}.pdf`, {
    paper: 'letter',
    timeoutMs: 120_000,
    office: 'local',
  });
  process.stdout.write(JSON.stringify(result));
} else {
  const dir = makeFixtureDir();
  const photo = join(dir, 'photo.jpg');
  execFileSync(MAGICK, ['-size', '4000x3000', 'plasma:', '-quality', '90', photo]);
  const lines = Array.from({ length: 520 }, (_, i) => `Line ${i + 1} of a long letter.`).join('\n');
  execFileSync('sh', ['-c', `cat > ${join(dir, 'ten.txt')}`], { input: lines });
  const cases = [
    { name: "sender's 50-page Letter PDF (already fit: not rewritten)", path: await letterPdf(dir) },
    {
      name: "sender's 50-page landscape A4 PDF with a filled form (flattened, fitted)",
      path: await landscapeFormPdf(dir),
    },
    { name: 'photo 4000×3000 JPEG', path: photo },
    { name: '20-page G4 TIFF', path: makeFaxTiff(dir, 20) },
    {
      name: 'DOCX (LibreOffice)',
      path: libreOfficeConvert(dir, join(dir, 'ten.txt'), 'docx', 'MS Word 2007 XML'),
    },
  ];
  const rows: string[] = [
    '| document | pages | seconds (median) | peak RSS MiB (median) |',
    '|---|---|---|---|',
  ];
  for (const { name, path } of cases) {
    const seconds: number[] = [];
    const rss: number[] = [];
    let pages = 0;
    for (let run = 0; run < Number(values.runs); run++) {
      // Bounded wait: on a busy shared machine the figures are noisier, not missing.
      await waitForIdleMachine(20_000);
      const out = execFileSync(
        '/usr/bin/time',
        ['-f', '%e %M', '-o', join(dir, 'time.txt'), process.execPath, process.argv[1]!, '--child', path],
        {
          encoding: 'utf8',
        },
      );
      pages = (JSON.parse(out) as { pages: number }).pages;
      const [elapsed, maxKb] = execFileSync('cat', [join(dir, 'time.txt')], { encoding: 'utf8' })
        .trim()
        .split(/\s+/)
        .map(Number);
      seconds.push(elapsed!);
      rss.push(maxKb! / 1024);
      process.stdout.write(
        `${JSON.stringify({ name, run, pages, seconds: elapsed, peakRssMiB: round(maxKb! / 1024, 1) })}\n`,
      );
    }
    const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
    rows.push(`| ${name} | ${pages} | ${round(median(seconds), 2)} | ${round(median(rss), 0)} |`);
  }
  process.stdout.write(`\n${rows.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

async function letterPdf(dir: string): Promise<string> {
  const path = join(dir, 'letter.pdf');
  writeFileSync(path, await makePdf(50, { label: 'letter' }));
  return path;
}

/** Landscape A4 pages of text, a filled text field on each: every page is redrawn and every field flattened. */
async function landscapeFormPdf(dir: string): Promise<string> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const form = doc.getForm();
  for (let n = 1; n <= 50; n++) {
    const page = doc.addPage([841.89, 595.28]);
    for (let line = 0; line < 30; line++) {
      page.drawText(`Page ${n}, line ${line + 1} of the quarterly table`, {
        x: 40,
        y: 550 - line * 17,
        size: 11,
        font,
      });
    }
    const field = form.createTextField(`approved.${n}`);
    field.addToPage(page, { x: 500, y: 40, width: 250, height: 24 });
    field.setText(`Approved, page ${n}`);
  }
  const path = join(dir, 'landscape-form.pdf');
  writeFileSync(path, await doc.save());
  return path;
}

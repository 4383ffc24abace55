import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeConversionSlots } from '../../src/documents/convert/conversionSlots.js';
import { convertDocument } from '../../src/documents/convert/convertDocument.js';
import { convertOfficeGotenberg } from '../../src/documents/convert/convertOfficeGotenberg.js';
import { convertOfficeLocal } from '../../src/documents/convert/convertOfficeLocal.js';
import { sniffDocumentFile } from '../../src/documents/convert/sniffDocumentKind.js';
import {
  libreOfficeConvert,
  makeFixtureDir,
  makeTwoPageDocx,
  makeXlsx,
} from '../helpers/documentFixtures.js';
import { freePort } from '../helpers/freePort.js';
import { type GotenbergStandIn, startGotenbergStandIn } from '../helpers/gotenbergStandIn.js';
import { pdfPages, pdfText } from '../helpers/renderPdf.js';

/*
 * Word and Excel files, made by LibreOffice as an office suite would make them, faxed through LibreOffice on this
 * machine or through a Gotenberg service (a stand-in speaking its API, converting with the same LibreOffice).
 */
const LO_TIMEOUT = 120_000;
const options = { paper: 'letter' as const, timeoutMs: LO_TIMEOUT };
const LETTER_PAGE = { width: 612, height: 792, rotate: 0 };

let dir: string;
let docx: string;
let xlsx: string;
let gotenberg: GotenbergStandIn;

beforeAll(async () => {
  dir = makeFixtureDir();
  docx = makeTwoPageDocx(dir);
  xlsx = makeXlsx(dir);
  gotenberg = await startGotenbergStandIn();
}, 4 * LO_TIMEOUT);

afterAll(async () => {
  await gotenberg?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Command lines of processes still running that were started for conversions in a work folder of ours. */
function leftoverOffices(): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('faxbridge-office-'));
}

describe('Office files through local LibreOffice', () => {
  it(
    'recognises LibreOffice-made DOCX, XLSX and ODT by their ZIP entries',
    async () => {
      expect(await sniffDocumentFile(docx)).toEqual({ kind: 'office', format: 'docx' });
      expect(await sniffDocumentFile(xlsx)).toEqual({ kind: 'office', format: 'xlsx' });
      const odt = libreOfficeConvert(dir, docx, 'odt');
      expect(await sniffDocumentFile(odt)).toEqual({ kind: 'office', format: 'odt' });
    },
    LO_TIMEOUT,
  );

  it(
    'faxes a 2-page DOCX as two Letter pages with its text',
    async () => {
      const output = join(dir, 'letter.pdf');
      expect(await convertOfficeLocal(docx, output, { ...options, format: 'docx' })).toEqual({ pages: 2 });
      expect(pdfPages(output)).toEqual([LETTER_PAGE, LETTER_PAGE]);
      expect(pdfText(output)).toContain('Line 70 of the letter.');
    },
    LO_TIMEOUT,
  );

  it(
    'faxes an XLSX',
    async () => {
      const output = join(dir, 'invoice.pdf');
      const result = await convertDocument({ kind: 'office', format: 'xlsx' }, xlsx, output, {
        ...options,
        office: 'local',
      });
      expect(result.pages).toBe(1);
      expect(pdfText(output)).toMatch(/Widgets\s+10/);
    },
    LO_TIMEOUT,
  );

  it(
    'stops LibreOffice at the time limit, leaving no process behind',
    async () => {
      const error = await convertOfficeLocal(docx, join(dir, 'slow.pdf'), {
        ...options,
        timeoutMs: 300,
        format: 'docx',
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'timeout', message: 'took longer than 300 ms to convert' });
      expect(leftoverOffices()).toEqual([]);
    },
    LO_TIMEOUT,
  );

  it(
    'calls a file LibreOffice cannot load unreadable',
    async () => {
      const broken = join(dir, 'broken.docx');
      writeFileSync(broken, Buffer.from('PK\x03\x04garbage-garbage-garbage', 'latin1'));
      await expect(
        convertOfficeLocal(broken, join(dir, 'broken.pdf'), { ...options, format: 'docx' }),
      ).rejects.toMatchObject({
        code: 'unreadable',
        message: 'cannot be opened by LibreOffice: it is damaged or not an Office file',
      });
    },
    LO_TIMEOUT,
  );

  it('says the converter is unavailable when LibreOffice is not installed', async () => {
    await expect(
      convertOfficeLocal(docx, join(dir, 'none.pdf'), {
        ...options,
        format: 'docx',
        sofficePath: '/nonexistent/soffice',
      }),
    ).rejects.toMatchObject({
      code: 'unavailable',
      message: 'the Office converter (LibreOffice) is not installed',
    });
  });

  it('refuses Office files with advice when documents.office is off', async () => {
    await expect(
      convertDocument({ kind: 'office', format: 'docx' }, docx, join(dir, 'off.pdf'), {
        ...options,
        office: 'off',
      }),
    ).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringContaining('print it to PDF and attach that'),
    });
  });
});

describe('Office files through Gotenberg', () => {
  it(
    'posts the file to /forms/libreoffice/convert and fits the PDF it gets back',
    async () => {
      const output = join(dir, 'gotenberg.pdf');
      const result = await convertDocument({ kind: 'office', format: 'docx' }, docx, output, {
        ...options,
        office: gotenberg.url,
      });
      expect(result).toEqual({ pages: 2 });
      expect(gotenberg.requests.at(-1)).toEqual(['document.docx']);
      expect(pdfPages(output)).toEqual([LETTER_PAGE, LETTER_PAGE]);
    },
    LO_TIMEOUT,
  );

  it(
    'calls a 503 unavailable (try later), and a 400 unreadable',
    async () => {
      gotenberg.unavailable = true;
      try {
        await expect(
          convertOfficeGotenberg(docx, join(dir, 'busy.pdf'), {
            ...options,
            format: 'docx',
            url: gotenberg.url,
          }),
        ).rejects.toMatchObject({ code: 'unavailable' });
      } finally {
        gotenberg.unavailable = false;
      }
      const garbage = join(dir, 'garbage.docx');
      // A ZIP signature and nothing after it: LibreOffice cannot load it ("source file could not be loaded").
      writeFileSync(garbage, Buffer.from('PK\x03\x04garbage-garbage-garbage', 'latin1'));
      await expect(
        convertOfficeGotenberg(garbage, join(dir, 'garbage.pdf'), {
          ...options,
          format: 'docx',
          url: gotenberg.url,
        }),
      ).rejects.toMatchObject({ code: 'unreadable' });
    },
    LO_TIMEOUT,
  );

  it('calls a refused connection unavailable', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await expect(
      convertOfficeGotenberg(docx, join(dir, 'refused.pdf'), { ...options, format: 'docx', url }),
    ).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('cannot be reached') });
  });
});

describe('makeConversionSlots', () => {
  it('runs at most `running` at once, queues `waiting`, and calls the rest overloaded', async () => {
    const slots = makeConversionSlots(1, 1);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const first = slots.run(async () => {
      order.push('first');
      await gate;
    });
    const second = slots.run(async () => {
      order.push('second');
    });
    await expect(slots.run(async () => undefined)).rejects.toMatchObject({ code: 'unavailable' });
    expect(order).toEqual(['first']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(slots.busy).toBe(0);
  });
});

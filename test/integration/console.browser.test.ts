import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hashPassword } from '../../src/lib/passwordHash.js';
import { makeMarkedImage } from '../helpers/documentFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { inkBox, pdfPages, pdfText, renderPage } from '../helpers/renderPdf.js';
import { startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';
import { type RelayedMail, startTestRelay, type TestRelay } from '../helpers/testRelay.js';

/*
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a running daemon in
 * sandbox mode with console users: what an office user does, and what they must not be able to do.
 * Screenshots go to test-artifacts/console/ (kept out of git) for people to look at.
 */
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const SHOTS = path.resolve('test-artifacts/console');
// Cheap hashes: the test is about the console, not about scrypt's cost.
const CHEAP = { N: 1024, r: 8, p: 1 };
const ALICE = { email: 'alice@example.com', password: 'alice-secret-1' };
const BOB = { email: 'bob@example.com', password: 'bob-secret-1' };
const ADMIN = { email: 'boss@example.com', password: 'boss-secret-1' };
const FAILS_FINALLY = '+15555550103';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** The fax PDF among a mail's parts (the first-page picture is another). */
const pdfOf = (mail: RelayedMail) =>
  mail.parsed.attachments.find((part) => part.contentType === 'application/pdf')!;

describe.skipIf(!haveChromium && !process.env.CI)('web console in a browser', () => {
  let env: TestDaemon;
  let relay: TestRelay;
  let browser: Browser;
  let base: string;
  /** Every URL any page of the test asked for: all must be the daemon's. */
  const requested: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const users = await Promise.all(
      [
        [ALICE, 'user'],
        [BOB, 'user'],
        [ADMIN, 'admin'],
      ].map(async ([user, role]) => {
        const { email, password } = user as typeof ALICE;
        return `    - email: ${email}\n      password_hash: '${await hashPassword(password, CHEAP)}'\n      role: ${role as string}\n`;
      }),
    );
    relay = await startTestRelay();
    env = await startTestDaemon({
      yaml: `console:\n  users:\n${users.join('')}inbound:\n  - number: '+15550001111'\n    deliver_to: [${ALICE.email}, frontdesk@example.com]\n`,
      env: { FAXBRIDGE_MAIL__SMTP_URL: relay.url },
    });
    base = env.httpUrl;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
    await relay?.close();
  });

  async function newPage(
    viewport = { width: 1200, height: 900 },
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const page = await context.newPage();
    page.on('request', (request) => requested.push(request.url()));
    return { context, page };
  }

  async function signIn(page: Page, user: typeof ALICE): Promise<void> {
    await page.goto(`${base}/console/jobs`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    await Promise.all([
      page.waitForURL(`${base}/console/jobs`, { timeout: 10_000 }),
      page.click('button[type=submit]'),
    ]);
  }

  /** Every page preview on the page has been drawn (they load lazily, one pdftoppm run each). */
  async function waitForPreviews(page: Page): Promise<void> {
    const previews = page.locator('.pages img');
    await waitFor(
      () =>
        previews.evaluateAll((images) =>
          images.every((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0),
        ),
      15_000,
      'previews drawn',
    );
  }

  /** A PDF of `pages` pages labelled `name page n`, written to a temporary file named `name`.pdf. */
  async function pdfFile(name: string, pages: number): Promise<string> {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'console-')), `${name}.pdf`);
    writeFileSync(file, await makePdf(pages, { label: name }));
    return file;
  }

  async function sendFromPage(page: Page, numbers: string[], files: string[]): Promise<string[]> {
    await page.goto(`${base}/console/send`);
    await page.setInputFiles('input[name=document]', files);
    await page.fill('textarea[name=numbers]', numbers.join('\n'));
    await page.screenshot({ path: `${SHOTS}/send.png`, fullPage: true });
    await Promise.all([page.waitForURL(/\/console\/jobs\?queued=/), page.click('main button[type=submit]')]);
    const jobs = await env.daemon.store.searchJobs({ sender: ALICE.email, limit: numbers.length });
    expect(jobs.map((job) => job.to_number).sort()).toEqual([...numbers].sort());
    return jobs.map((job) => job.id);
  }

  it('answers with a strict CSP and sends visitors without a session to the sign-in page', async () => {
    const page = await fetch(`${base}/console/jobs`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/console\/sign-in/);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
    ])
      expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect((await fetch(`${base}/console/jobs/fx_x/document`)).status).toBe(401);
    const signInPage = await (await fetch(`${base}/console/sign-in`)).text();
    expect(signInPage).not.toContain('fx_');
  });

  it('signs in, sends a fax to two numbers, watches both delivered, and shows attempts and page previews', async () => {
    const { context, page } = await newPage();
    await signIn(page, ALICE);
    const photo = makeMarkedImage(mkdtempSync(path.join(tmpdir(), 'console-')), 'photo.jpg', 800, 1000);
    const ids = await sendFromPage(
      page,
      ['+15550004001', '+15550004002'],
      [await pdfFile('letter', 2), photo],
    );
    const message = await env.daemon.store.getMessage(
      (await env.daemon.store.getJob(ids[0]!))!.message_row_id,
    );
    expect(message!.subject).toContain('[cover]');
    expect(await page.locator('.notice').textContent()).toContain('2 fax(es) queued');

    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator('tbody .status-delivered').count()) === 2;
      },
      20_000,
      'both jobs delivered on the jobs page',
    );
    await page.screenshot({ path: `${SHOTS}/jobs.png`, fullPage: true });

    // Each number was sent the letter's two pages and the photo as a page of its own, after the cover page.
    for (const id of ids) {
      const sent = (await env.daemon.store.getTransmittedDocument(id))!;
      const file = path.join(env.dataDir, 'documents', sent.storage_key);
      expect(pdfPages(file)).toHaveLength(4);
      const text = pdfText(file);
      expect(text).toContain('letter page 1');
      expect(text).toContain('letter page 2');
      expect(inkBox(renderPage(file, 4))).toMatchObject({ left: expect.closeTo(0.1, 0) });
    }

    await page.click(`a[href="/console/jobs/${ids[0]}"]`);
    expect(await page.locator('h1').textContent()).toContain('Fax to');
    const attempts = page.locator('h2:has-text("Attempts") + .scroll tbody tr');
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().textContent()).toContain('delivered');
    const previews = page.locator('.pages img');
    // The pages as faxed: the cover page, the letter's two pages and the photo.
    expect(await previews.count()).toBe(4);
    expect(await page.locator('main').textContent()).toContain('As faxed, with the cover page');
    expect(await page.locator('main').textContent()).toContain('letter.pdf + photo.jpg');
    await waitForPreviews(page);
    await page.screenshot({ path: `${SHOTS}/job.png`, fullPage: true });
    const audit = await env.daemon.store.listAudit({ limit: 50 });
    expect(audit.filter((entry) => entry.action === 'preview' && entry.object_id === ids[0])).toHaveLength(4);
    expect(audit.find((entry) => entry.action === 'preview')).toMatchObject({
      actor: ALICE.email,
      object_type: 'job',
    });
    await context.close();
  }, 90_000);

  it('retries a failed job as a new job', async () => {
    const { context, page } = await newPage();
    await signIn(page, ALICE);
    const [failedId] = await sendFromPage(page, [FAILS_FINALLY], [await pdfFile('short', 1)]);
    await waitFor(
      async () => (await env.daemon.store.getJob(failedId!))?.status === 'failed',
      20_000,
      'job failed',
    );
    await page.goto(`${base}/console/jobs/${failedId}`);
    expect(await page.locator('.status-failed').first().isVisible()).toBe(true);
    await Promise.all([page.waitForURL(/\?done=retried$/), page.click('button:has-text("Retry")')]);
    expect(await page.locator('.notice').textContent()).toContain('Queued again');
    const newId = new URL(page.url()).pathname.split('/').at(-1)!;
    expect(newId).not.toBe(failedId);
    const retried = await env.daemon.store.getJob(newId);
    expect(retried).toMatchObject({ to_number: FAILS_FINALLY, sender: ALICE.email });
    await page.screenshot({ path: `${SHOTS}/retried.png`, fullPage: true });
    await context.close();
  });

  it('refuses on the page, in plain words, a file that cannot be faxed, and queues nothing', async () => {
    const { context, page } = await newPage();
    await signIn(page, ALICE);
    const dir = mkdtempSync(path.join(tmpdir(), 'console-'));
    const letter = await pdfFile('letter', 1);
    execFileSync('zip', ['-j', '-q', path.join(dir, 'letters.zip'), letter]);
    const before = (await env.daemon.store.searchJobs({ limit: 100 })).length;
    await page.goto(`${base}/console/send`);
    await page.setInputFiles('input[name=document]', [letter, path.join(dir, 'letters.zip')]);
    await page.fill('textarea[name=numbers]', '+15550004003');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST'),
      page.click('main button[type=submit]'),
    ]);
    expect(answer.status()).toBe(422);
    expect(await page.locator('.error').textContent()).toContain(
      'Not sent: letters.zip is an archive; attach the files themselves',
    );
    // The numbers stay in the form for the second try.
    expect(await page.locator('textarea[name=numbers]').inputValue()).toContain('+15550004003');
    await page.screenshot({ path: `${SHOTS}/send-refused.png`, fullPage: true });
    expect(await env.daemon.store.searchJobs({ limit: 100 })).toHaveLength(before);
    await context.close();
  });

  it('finds a received fax by caller and downloads it, byte for byte what the caller sent', async () => {
    const fax = await env.simulator.sendInbound({
      from: '+12125550177',
      to: '+15550001111',
      pages: 2,
      webhookUrl: `${base}/webhooks/telnyx`,
    });
    await waitFor(
      async () => (await env.daemon.store.getInboundFax(fax.id))?.status === 'mailed',
      20_000,
      'fax stored',
    );
    const { context, page } = await newPage();
    await signIn(page, ALICE);
    await page.goto(`${base}/console/inbound`);
    await page.fill('input[name=caller]', '+1212555017');
    await Promise.all([page.waitForURL(/caller=/), page.click('main button[type=submit]')]);
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('+12125550177');
    await page.screenshot({ path: `${SHOTS}/inbound.png`, fullPage: true });
    await rows.first().locator('a').first().click();
    expect(await page.locator('.pages img').count()).toBe(2);
    await waitForPreviews(page);
    await page.screenshot({ path: `${SHOTS}/inbound-fax.png`, fullPage: true });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a:has-text("Download the PDF")'),
    ]);
    const file = path.join(tmpdir(), `dl-${fax.id}.pdf`);
    await download.saveAs(file);
    const { readFileSync } = await import('node:fs');
    expect(sha256(readFileSync(file))).toBe(fax.media!.sha256);
    const audit = await env.daemon.store.listAudit({ limit: 50 });
    expect(audit.some((entry) => entry.action === 'download' && entry.object_id === fax.id)).toBe(true);

    // Sent again by email: a second mail to the routed addresses, the same PDF, its own Message-ID.
    const mailsOfFax = () =>
      relay.messages.filter((mail) => mail.parsed.headers.get('x-faxbridge-fax') === fax.id);
    const [first] = await waitFor(() => (mailsOfFax().length ? mailsOfFax() : null), 20_000, 'first mail');
    const resendForm = page.locator('form[action$="/resend"]');
    const sameForm = {
      _csrf: await resendForm.locator('input[name=_csrf]').inputValue(),
      resend: await resendForm.locator('input[name=resend]').inputValue(),
    };
    await Promise.all([
      page.waitForURL(/\?done=resent$/),
      page.click('button:has-text("Send again by email")'),
    ]);
    // The same form once more, as a double click sends it: answered like the first, and no second mail.
    const twice = await page.request.post(`${base}/console/inbound/${fax.id}/resend`, {
      form: sameForm,
      headers: { origin: base },
      maxRedirects: 0,
    });
    expect(twice.status()).toBe(303);
    expect(twice.headers()['location']).toMatch(/\?done=resent$/);
    expect(await page.locator('.notice').textContent()).toContain(
      'sent again by email to alice@example.com, frontdesk@example.com',
    );
    await page.screenshot({ path: `${SHOTS}/inbound-resent.png`, fullPage: true });
    const [, again] = await waitFor(
      () => (mailsOfFax().length >= 2 ? mailsOfFax() : null),
      20_000,
      'the mail sent again',
    );
    expect(again!.rcptTo.sort()).toEqual(['alice@example.com', 'frontdesk@example.com']);
    expect(again!.parsed.messageId).toBeTruthy();
    expect(again!.parsed.messageId).not.toBe(first!.parsed.messageId);
    expect(sha256(pdfOf(again!).content)).toBe(fax.media!.sha256);
    expect(again!.parsed.text).toContain(`sent again by ${ALICE.email}`);
    const resent = (await env.daemon.store.listAudit({ limit: 50 })).filter(
      (entry) => entry.action === 'resend' && entry.object_id === fax.id,
    );
    expect(resent).toHaveLength(1);
    expect(resent[0]).toMatchObject({ actor: ALICE.email, object_type: 'inbound' });
    await waitFor(async () => (await env.daemon.store.countOutbox('pending')) === 0, 20_000, 'outbox empty');
    expect(mailsOfFax()).toHaveLength(2);
    await context.close();
  });

  it('shows the audit log and health to an admin', async () => {
    const { context, page } = await newPage();
    await signIn(page, ADMIN);
    await page.goto(`${base}/console/audit`);
    expect(await page.locator('tbody').textContent()).toContain('preview');
    expect(await page.locator('tbody').textContent()).toContain('download');
    await page.screenshot({ path: `${SHOTS}/audit.png`, fullPage: true });
    await page.goto(`${base}/console/health`);
    const count = async (name: string) => Number(await page.locator(`[data-count="${name}"]`).textContent());
    // Two faxes delivered, at least the one to the failing number failed, one fax received; nothing waits.
    expect(await count('delivered')).toBe(2);
    expect(await count('failed')).toBeGreaterThanOrEqual(1);
    expect(await count('received')).toBe(1);
    expect(await count('mail-dead')).toBe(0);
    const telnyx = await page.locator('[data-service="telnyx"]').textContent();
    expect(telnyx).toMatch(/^\s*ok\b/);
    expect(telnyx).toContain('the built-in simulator');
    expect(telnyx).toMatch(/the last call \((POST|GET) \/faxes[^)]*\) was answered at \d{4}-/);
    expect(await page.locator('dt:has-text("Mail relay") + dd').textContent()).toContain('ok');
    await page.screenshot({ path: `${SHOTS}/health.png`, fullPage: true });
    await context.close();
  });

  it("does not show a user another user's job, list entry or document, even by URL", async () => {
    const [aliceJob] = await env.daemon.store.searchJobs({ sender: ALICE.email, limit: 1 });
    const { context, page } = await newPage();
    await signIn(page, BOB);
    expect(await page.locator('tbody').textContent()).not.toContain(aliceJob!.id);
    for (const suffix of ['', '/document', '/transmitted', '/pages/1.png']) {
      const answer = await page.goto(`${base}/console/jobs/${aliceJob!.id}${suffix}`);
      expect(answer!.status()).toBe(404);
    }
    expect(await page.locator('h1').textContent()).toContain('Not found');
    const inbound = await env.daemon.store.searchInboundFaxes({ limit: 1 });
    const faxId = inbound[0]!.fax_id;
    for (const suffix of ['', '/document', '/pages/1.png'])
      expect((await page.goto(`${base}/console/inbound/${faxId}${suffix}`))!.status()).toBe(404);
    // Nor can Bob have Alice's fax mailed again, with a good token from his own page.
    await page.goto(`${base}/console/inbound`);
    expect(await page.locator('tbody').textContent()).not.toContain('+12125550177');
    const token = await page.locator('input[name=_csrf]').first().inputValue();
    const mailsOfFax = () =>
      relay.messages.filter((mail) => mail.parsed.headers.get('x-faxbridge-fax') === faxId).length;
    const mailsBefore = mailsOfFax();
    const resend = await page.request.post(`${base}/console/inbound/${faxId}/resend`, {
      form: { _csrf: token },
      headers: { origin: base },
    });
    expect(resend.status()).toBe(404);
    expect(
      (await env.daemon.store.listAudit({ limit: 100 }))
        .filter((e) => e.actor === BOB.email)
        .map((e) => e.action),
    ).not.toContain('resend');
    expect(mailsOfFax()).toBe(mailsBefore);
    await page.goto(`${base}/console/audit`);
    expect(await page.locator('h1').textContent()).toContain('Not found');
    await context.close();
  });

  it('refuses a form without the CSRF token or from another origin', async () => {
    const { context, page } = await newPage();
    await signIn(page, ALICE);
    const [job] = await env.daemon.store.searchJobs({ sender: ALICE.email, status: 'failed', limit: 1 });
    const status = await page.evaluate(async (url) => {
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'nothing=here',
      });
      return answer.status;
    }, `${base}/console/jobs/${job!.id}/retry`);
    expect(status).toBe(403);
    // The right token, but posted by another site: the Origin gives it away.
    const html = await (await page.request.get(`${base}/console/jobs/${job!.id}`)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const foreign = await page.request.post(`${base}/console/jobs/${job!.id}/retry`, {
      form: { _csrf: token },
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status()).toBe(403);
    expect(
      (await env.daemon.store.searchJobs({ sender: ALICE.email, status: 'queued', limit: 10 })).map(
        (j) => j.to_number,
      ),
    ).not.toContain(FAILS_FINALLY);
    await context.close();
  });

  it('works on a phone-sized screen and signs out', async () => {
    const { context, page } = await newPage({ width: 390, height: 844 });
    await signIn(page, ALICE);
    // Every page fits the phone's width: nothing to scroll sideways for.
    const [job] = await env.daemon.store.searchJobs({ sender: ALICE.email, status: 'delivered', limit: 1 });
    const [fax] = await env.daemon.store.searchInboundFaxes({ limit: 1 });
    for (const [name, url] of [
      ['jobs-phone', '/console/jobs'],
      ['job-phone', `/console/jobs/${job!.id}`],
      ['inbound-phone', '/console/inbound'],
      ['inbound-fax-phone', `/console/inbound/${fax!.fax_id}`],
      ['send-phone', '/console/send'],
      ['health-phone', '/console/health'],
    ] as const) {
      await page.goto(`${base}${url}`);
      // Previews load lazily: scrolled into view, then drawn, before the full-page picture is taken.
      await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
      await waitForPreviews(page);
      await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
      // Evaluated in the page (test code has no DOM types): the page's own width, then each table's box.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      // Not even inside a table's own scrolling box: every value is seen without swiping.
      const hidden = await page.evaluate<boolean>(
        "[...document.querySelectorAll('.scroll')].some((box) => box.scrollWidth > box.clientWidth + 1)",
      );
      expect({ name, overflow, hidden }).toEqual({ name, overflow: 0, hidden: false });
    }
    await Promise.all([
      page.waitForURL(`${base}/console/sign-in`),
      page.click('button:has-text("Sign out")'),
    ]);
    const answer = await page.goto(`${base}/console/jobs`);
    expect(new URL(answer!.url()).pathname).toBe('/console/sign-in');
    await context.close();
  });

  // Last: the five failures also lock the test's client address (127.0.0.1) for every other account.
  it('locks an account after five wrong passwords, the right one included, and says so', async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/console/sign-in`);
    for (let attempt = 1; attempt <= 5; attempt++) {
      await page.fill('input[name=email]', BOB.email);
      await page.fill('input[name=password]', `wrong-${attempt}`);
      await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
      expect(await page.locator('.error').textContent()).toContain('Wrong email or password');
    }
    await page.fill('input[name=email]', BOB.email);
    await page.fill('input[name=password]', BOB.password);
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    expect(answer.status()).toBe(429);
    expect(await page.locator('.error').textContent()).toContain('refused');
    await page.screenshot({ path: `${SHOTS}/locked.png`, fullPage: true });
    await context.close();
  });

  it('loaded nothing from any host but the daemon', () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
  });
});

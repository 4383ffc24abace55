import { afterEach, describe, expect, it } from 'vitest';

import { hashPassword } from '../../src/lib/passwordHash.js';
import { startSimulator } from '../../src/simulator/index.js';
import { freePort, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/** Signs in over plain HTTP as the console's forms do; returns the cookies and the CSRF token. */
async function signIn(base: string, email: string, password: string) {
  const page = await fetch(`${base}/console/sign-in`);
  const csrfCookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const answer = await fetch(`${base}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie, origin: base },
    body: new URLSearchParams({ _csrf: token, email, password }).toString(),
  });
  expect(answer.status).toBe(303);
  const session = answer.headers.getSetCookie().map((c) => c.split(';')[0]!);
  return { cookie: [csrfCookie, ...session].join('; '), token };
}

/*
 * How the console decides who is asking, over real HTTP: open sandbox, a sign-in proxy's header (believed only
 * from trusted_proxies), and a production daemon with no console configured.
 */
describe('console access', () => {
  let env: TestDaemon | null = null;
  afterEach(async () => {
    await env?.stop();
    env = null;
  });

  it('needs no sign-in in sandbox mode without console users, and says so on the page', async () => {
    env = await startTestDaemon();
    const page = await fetch(`${env.httpUrl}/console/jobs`, { redirect: 'manual' });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('Sandbox mode');
    expect(text).toContain('the console needs no sign-in');
  });

  it('shows on the health page that Telnyx refuses the API key and the mail relay is down', async () => {
    const simulator = await startSimulator({ timing: { stepMs: 20 } });
    // The missed-fax poll lists faxes at start: Telnyx answers 401, as it does to a revoked key.
    simulator.injectResponses('GET /faxes', [{ status: 401 }, { status: 401 }, { status: 401 }]);
    const deadRelay = `smtp://127.0.0.1:${await freePort()}`;
    try {
      env = await startTestDaemon({ simulator, env: { FAXBRIDGE_MAIL__SMTP_URL: deadRelay } });
      const page = await waitFor(
        async () => {
          const text = await (await fetch(`${env!.httpUrl}/console/health`)).text();
          return text.includes('refused our API key') ? text : null;
        },
        20_000,
        'the health page to show the refused key',
      );
      const telnyx = /data-service="telnyx">([\s\S]*?)<\/dd>/.exec(page)![1]!.replace(/\s+/g, ' ');
      expect(telnyx).toContain('failing');
      expect(telnyx).toContain('the last call (GET /faxes');
      expect(telnyx).toContain('refused our API key (401)');
      expect(telnyx).toContain('No call has worked since start.');
      const relay = /Mail relay<\/dt>\s*<dd>([\s\S]*?)<\/dd>/.exec(page)![1]!;
      expect(relay).toContain('failing');
      expect(relay).not.toContain('>ok<');
    } finally {
      await env?.stop();
      env = null;
      await simulator.close();
    }
  });

  it('believes the sign-in proxy header only from console.trusted_proxies', async () => {
    const yaml = (proxies: string) =>
      `console:\n  trusted_header: X-Forwarded-Email\n  trusted_proxies: [${proxies}]\n  users:\n    - email: boss@example.com\n      role: admin\n`;
    env = await startTestDaemon({ yaml: yaml('127.0.0.1/32') });
    const asBoss = await fetch(`${env.httpUrl}/console/audit`, {
      headers: { 'x-forwarded-email': 'Boss@Example.com' },
      redirect: 'manual',
    });
    expect(asBoss.status).toBe(200);
    expect(await asBoss.text()).toContain('boss@example.com · admin');
    const asUser = await fetch(`${env.httpUrl}/console/audit`, {
      headers: { 'x-forwarded-email': 'carol@example.com' },
    });
    expect(asUser.status).toBe(404);
    await env.stop();

    env = await startTestDaemon({ yaml: yaml('10.0.0.0/8') });
    const spoofed = await fetch(`${env.httpUrl}/console/audit`, {
      headers: { 'x-forwarded-email': 'boss@example.com' },
      redirect: 'manual',
    });
    expect(spoofed.status).toBe(303);
    expect(spoofed.headers.get('location')).toMatch(/^\/console\/sign-in/);
  });

  it('is not served outside sandbox unless a way to sign in is configured', async () => {
    env = await startTestDaemon({
      production: true,
      yaml: "senders:\n  - match: '*@example.com'\n    from_number: '+15550001111'\n",
    });
    const answer = await fetch(`${env.httpUrl}/console/jobs`, { redirect: 'manual' });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/json/);
  });

  it('lets nobody send without a senders entry for their address, outside sandbox', async () => {
    const hash = await hashPassword('carol-pw', { N: 1024, r: 8, p: 1 });
    env = await startTestDaemon({
      production: true,
      yaml: `senders:\n  - match: '*@example.com'\n    from_number: '+15550001111'\nconsole:\n  users:\n    - email: carol@elsewhere.org\n      password_hash: '${hash}'\n`,
    });
    const { cookie, token } = await signIn(env.httpUrl, 'carol@elsewhere.org', 'carol-pw');
    const page = await (await fetch(`${env.httpUrl}/console/send`, { headers: { cookie } })).text();
    expect(page).toContain('has no <code>senders</code> entry');
    expect(page).not.toContain('type="file"');
    const form = new FormData();
    form.set('_csrf', token);
    form.set('numbers', '+15550002222');
    form.set('document', new Blob([Buffer.from('%PDF-1.4')], { type: 'application/pdf' }), 'a.pdf');
    const posted = await fetch(`${env.httpUrl}/console/send`, {
      method: 'POST',
      headers: { cookie, origin: env.httpUrl },
      body: form,
    });
    expect(posted.status).toBe(403);
    expect(await env.daemon.store.searchJobs({ limit: 10 })).toEqual([]);
  });
});

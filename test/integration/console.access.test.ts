import { afterEach, describe, expect, it } from 'vitest';

import { startTestDaemon, type TestDaemon } from '../helpers/testDaemon.js';

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
});

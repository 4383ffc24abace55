import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * Mail gateways rewrite MAIL FROM (BATV tags, SRS when forwarding). In production mode only `senders` may fax;
 * the rewritten envelope sender must be judged as the sender it stands for, never refused for its disguise.
 */
describe('envelope senders rewritten by gateways (production mode)', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({
      production: true,
      yaml: 'senders:\n  - match: alice@example.com\n    from_number: "+15550001111"\n',
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it.each([
    ['BATV prvs', 'prvs=0123456789=alice@example.com', '+15557300001'],
    ['Barracuda BATV', 'btv1==8d5e3f4a1b2==alice@example.com', '+15557300002'],
    ['SRS0 from a forwarder', 'SRS0=HHH=TT=example.com=alice@forwarder.example', '+15557300003'],
    [
      'SRS1 from a second forwarder',
      'SRS1=XXX=first.example==HHH=TT=example.com=alice@second.example',
      '+15557300004',
    ],
  ])('%s (%s) is accepted and faxes from the sender’s number', async (_what, envelopeFrom, to) => {
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: `${to}@fax.localhost`,
      envelope: { from: envelopeFrom, to: `${to}@fax.localhost` },
      text: 'Fax',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.response).toMatch(new RegExp(`^250 2\\.0\\.0 Queued \\S+ \\${to}$`));
    const fax = await waitFor(() => env.simulator.faxes().find((f) => f.to === to));
    expect(fax.from).toBe('+15550001111');
  });

  it('an SRS address standing for a sender who may not fax is refused at MAIL with 550 5.7.1', async () => {
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15557300009@fax.localhost',
      envelope: {
        from: 'SRS0=HHH=TT=example.net=mallory@forwarder.example',
        to: '+15557300009@fax.localhost',
      },
      text: 'Fax',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.response).toMatch(/^550 5\.7\.1 /);
  });
});

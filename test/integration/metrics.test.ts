import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeMetrics } from '../../src/metrics.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { makeWebhookKeyPair, signWebhook } from '../helpers/signWebhook.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/** One sample of the Prometheus text format: `name{label="value",…} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * A strict reader of the text exposition format 0.0.4: every line is a HELP, a TYPE or a sample, every sample
 * belongs to a family declared by TYPE, and every value is a number. Throws on anything else.
 */
function parsePrometheusText(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      expect(line.split(' ')[2]).toMatch(METRIC_NAME);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      expect(name).toMatch(METRIC_NAME);
      expect(TYPES.has(type!), `type of ${name}: ${type}`).toBe(true);
      types.set(name!, type!);
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const [, name, labelText = '', valueText] = match;
    const family = [...types.keys()].find(
      (base) => name === base || (/_(bucket|sum|count|total|created)$/.test(name!) && name!.startsWith(base)),
    );
    expect(family, `sample ${name} has no TYPE line`).toBeDefined();
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(LABEL_PAIR)) labels[pair[1]!] = pair[2]!;
    // Prometheus reads values with Go's ParseFloat: NaN in any case (prom-client writes `Nan`), ±Inf.
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    expect(Number.isNaN(value) && !/^nan$/i.test(valueText!), `value of ${line}`).toBe(false);
    samples.push({ name: name!, labels, value });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return found?.value ?? 0;
}

describe('GET /metrics', () => {
  let env: TestDaemon;
  const scrape = async () => {
    const response = await fetch(`${env.httpUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  };

  beforeAll(async () => {
    env = await startTestDaemon();
  });
  afterAll(async () => {
    await env.stop();
  });

  it('is Prometheus text with the docs/behaviour.md §8 families and the default process metrics', async () => {
    const samples = await scrape();
    const names = new Set(samples.map((sample) => sample.name));
    for (const name of [
      'faxbridge_webhooks_total',
      'faxbridge_queue_depth',
      'faxbridge_outbox_depth',
      'faxbridge_jobs_accepted_total',
      'faxbridge_faxes_delivered_total',
      'faxbridge_inbound_received_total',
      'faxbridge_inbound_unrouted_total',
      'faxbridge_fax_attempts_total',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it('counts accepted mails and jobs, deliveries, attempts, webhooks and the time to Telnyx', async () => {
    const before = await scrape();
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: ['+15551239001@fax.localhost', '+15551239002@fax.localhost'],
      subject: 'Counted',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    const after = await waitFor(
      async () => {
        const samples = await scrape();
        const delivered = valueOf(samples, 'faxbridge_faxes_delivered_total');
        return delivered - valueOf(before, 'faxbridge_faxes_delivered_total') === 2 ? samples : null;
      },
      15_000,
      'two deliveries counted',
    );
    const delta = (name: string, labels?: Record<string, string>) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('faxbridge_smtp_accepted_total')).toBe(1);
    expect(delta('faxbridge_jobs_accepted_total')).toBe(2);
    expect(delta('faxbridge_fax_attempts_total')).toBe(2);
    expect(delta('faxbridge_accept_to_telnyx_seconds_count')).toBe(2);
    expect(delta('faxbridge_accept_to_delivered_seconds_count')).toBe(2);
    // queued, media.processed, sending, delivered for each fax: at least 2 × 3 accepted events.
    expect(delta('faxbridge_webhooks_total', { result: 'accepted' })).toBeGreaterThanOrEqual(6);
    await waitFor(async () => {
      const samples = await scrape();
      return valueOf(samples, 'faxbridge_mails_sent_total', { kind: 'receipt_delivered' }) -
        valueOf(before, 'faxbridge_mails_sent_total', { kind: 'receipt_delivered' }) ===
        2
        ? samples
        : null;
    });
  });

  it('counts a failed fax by its failure_reason', async () => {
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15555550103@fax.localhost', // the simulator's "unallocated number"
      subject: 'Fails',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    await waitFor(
      async () =>
        valueOf(await scrape(), 'faxbridge_faxes_failed_total', { reason: 'receiver_unallocated_number' }) ===
        1,
      15_000,
      'failure counted',
    );
  });

  it('counts SMTP refusals by a stable reason', async () => {
    const before = await scrape();
    const relay = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: 'someone@elsewhere.example',
      text: 'relay attempt',
    });
    expect(relay.code).toBe(550);
    const noPdf = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551239003@fax.localhost',
      text: 'forgot the attachment',
    });
    expect(noPdf.response).toMatch(/^550 5\.6\.0/);
    const badNumber = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: 'not-a-number@fax.localhost',
      text: 'x',
    });
    expect(badNumber.code).toBe(550);
    const after = await scrape();
    for (const reason of ['relay_denied', 'no_pdf', 'bad_number']) {
      const moved =
        valueOf(after, 'faxbridge_smtp_rejected_total', { reason }) -
        valueOf(before, 'faxbridge_smtp_rejected_total', { reason });
      expect(moved, reason).toBe(1);
    }
  });

  it('counts refused webhooks by reason', async () => {
    const before = await scrape();
    const body = JSON.stringify({ data: { id: 'evt-x', event_type: 'fax.queued', payload: {} } });
    const wrongKey = makeWebhookKeyPair(99);
    const refused = await fetch(`${env.httpUrl}/webhooks/telnyx`, {
      method: 'POST',
      headers: signWebhook(body, wrongKey.secretKey),
      body,
    });
    expect(refused.status).toBe(401);
    const unsigned = await fetch(`${env.httpUrl}/webhooks/telnyx`, { method: 'POST', body });
    expect(unsigned.status).toBe(401);
    const after = await scrape();
    const delta = (result: string) =>
      valueOf(after, 'faxbridge_webhooks_total', { result }) -
      valueOf(before, 'faxbridge_webhooks_total', { result });
    expect(delta('bad_signature')).toBe(1);
    expect(delta('missing_headers')).toBe(1);
  });

  it('counts a received fax', async () => {
    const before = await scrape();
    await env.simulator.sendInbound({
      from: '+15557770001',
      to: '+15550009999',
      pages: 1,
      webhookUrl: `${env.httpUrl}/webhooks/telnyx`,
    });
    await waitFor(
      async () =>
        valueOf(await scrape(), 'faxbridge_inbound_received_total') -
          valueOf(before, 'faxbridge_inbound_received_total') ===
        1,
      15_000,
      'received fax counted',
    );
  });

  it('gives each daemon its own registry', () => {
    const first = makeMetrics();
    const second = makeMetrics();
    first.jobsAccepted.inc(3);
    expect(first.registry).not.toBe(second.registry);
    expect(second.registry.getSingleMetric('faxbridge_jobs_accepted_total')).toBeDefined();
    return second.registry.metrics().then((text) => {
      expect(text).toMatch(/^faxbridge_jobs_accepted_total 0$/m);
    });
  });
});

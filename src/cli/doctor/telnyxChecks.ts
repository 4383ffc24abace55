import type { Dispatcher } from 'undici';

import { type ProbeAnswer, probeGet, telnyxDetail } from './http.js';
import { type CheckResult, ok, problem, skipped } from './report.js';

export interface TelnyxTarget {
  /** Base URL without a trailing slash (`https://api.telnyx.com/v2`, or the simulator's). */
  apiUrl: string;
  apiKey: string;
  connectionId: string;
  /** Each distinct sender number with the config key that names it first. */
  fromNumbers: Array<{ key: string; number: string }>;
  /** Where the key comes from, as the operator would change it. */
  keySource: string;
  dispatcher?: Dispatcher;
}

const KEY = 'Telnyx API key';
const APP = 'Telnyx connection_id';

/**
 * The account checks, read-only: the key with a one-fax page of `GET /faxes`, the Fax Application behind
 * `connection_id`, then each sender's number in `GET /phone_numbers`. When the key fails, the rest cannot be
 * asked and say so instead of repeating the key's problem.
 */
export async function checkTelnyx(target: TelnyxTarget): Promise<CheckResult[]> {
  const get = (path: string) =>
    probeGet(`${target.apiUrl}${path}`, { authorization: `Bearer ${target.apiKey}` }, target.dispatcher);

  const keyAnswer = await get('/faxes?page%5Bsize%5D=1');
  const keyResult = judgeKey(target, keyAnswer);
  if (keyResult.verdict !== 'ok') {
    const why = 'needs a working API key (see above)';
    return [keyResult, skipped(APP, why), ...target.fromNumbers.map(({ key }) => skipped(`${key}`, why))];
  }
  const results = [
    keyResult,
    judgeApplication(target, await get(`/fax_applications/${encodeURIComponent(target.connectionId)}`)),
  ];
  for (const { key, number } of target.fromNumbers) {
    const answer = await get(`/phone_numbers?filter%5Bphone_number%5D=${encodeURIComponent(number)}`);
    results.push(judgeNumber(key, number, answer));
  }
  return results;
}

function judgeKey(target: TelnyxTarget, answer: ProbeAnswer | { error: string }): CheckResult {
  if ('error' in answer) {
    return problem(
      KEY,
      `cannot reach ${target.apiUrl}: ${answer.error}`,
      'check telnyx.api_url (TELNYX_API_URL), DNS and any outgoing firewall or proxy for HTTPS to Telnyx',
    );
  }
  if (answer.status === 401 || answer.status === 403) {
    return problem(
      KEY,
      `Telnyx refused the key from ${target.keySource} (${answer.status}: ${telnyxDetail(answer)})`,
      `create an API key in the Telnyx portal (Account Settings → Keys & Credentials → API Keys) and set it as ${target.keySource}`,
    );
  }
  if (answer.status !== 200) {
    return problem(
      KEY,
      `GET /faxes answered ${answer.status}: ${telnyxDetail(answer)}`,
      'check telnyx.api_url; if it is right, Telnyx may be having trouble: try again in a few minutes',
    );
  }
  return ok(KEY, `accepted (GET /faxes answered 200)`);
}

function judgeApplication(target: TelnyxTarget, answer: ProbeAnswer | { error: string }): CheckResult {
  const fixId = `copy the id of your Fax Application (Telnyx portal → Voice/Fax → Programmable Fax) into telnyx.connection_id (TELNYX_CONNECTION_ID), quoted`;
  if ('error' in answer) return problem(APP, `could not ask Telnyx: ${answer.error}`, 'run doctor again');
  if (answer.status === 404) {
    return problem(APP, `no Fax Application with id ${target.connectionId} on this account`, fixId);
  }
  if (answer.status !== 200) {
    return problem(
      APP,
      `GET /fax_applications/${target.connectionId} answered ${answer.status}: ${telnyxDetail(answer)}`,
      fixId,
    );
  }
  const app = (answer.body as { data?: FaxApplication } | null)?.data ?? {};
  const name = app.application_name ? ` ("${app.application_name}")` : '';
  if (app.outbound && !app.outbound.outbound_voice_profile_id) {
    return problem(
      APP,
      `Fax Application ${target.connectionId}${name} has no outbound voice profile: every fax would fail with no_outbound_profile`,
      'in the Telnyx portal, give the Fax Application an Outbound Voice Profile that allows the countries you fax to',
    );
  }
  if (app.active === false) {
    return problem(
      APP,
      `Fax Application ${target.connectionId}${name} is not active`,
      'activate it in the Telnyx portal',
    );
  }
  return ok(APP, `Fax Application ${target.connectionId}${name} exists`);
}

interface FaxApplication {
  application_name?: string;
  active?: boolean;
  outbound?: { outbound_voice_profile_id?: string | null };
}

function judgeNumber(key: string, number: string, answer: ProbeAnswer | { error: string }): CheckResult {
  if ('error' in answer)
    return problem(key, `could not ask Telnyx about ${number}: ${answer.error}`, 'run doctor again');
  if (answer.status !== 200) {
    return problem(
      key,
      `GET /phone_numbers answered ${answer.status}: ${telnyxDetail(answer)}`,
      "run doctor again; if it persists, check the key's permissions",
    );
  }
  const found = (
    (answer.body as { data?: Array<{ phone_number?: string; status?: string }> } | null)?.data ?? []
  ).find((entry) => entry.phone_number === number);
  if (!found) {
    return problem(
      key,
      `${number} is not a number on this Telnyx account: faxes from it would fail (unverified_origination_number)`,
      `buy or port ${number} in the Telnyx portal, or change ${key} to one of the account's numbers`,
    );
  }
  if (found.status && found.status !== 'active') {
    return problem(
      key,
      `${number} is on the account but ${found.status}`,
      'wait until Telnyx activates it, or use an active number',
    );
  }
  return ok(key, `${number} is on the account`);
}

import type { ApiResponse } from './routes.js';
import { envelope, telnyxError } from './telnyxErrors.js';

/**
 * The read-only account endpoints `faxbridge doctor` asks: the Fax Application behind `connection_id` and
 * the phone numbers on the account. Telnyx documents both (`GET /fax_applications/{id}`,
 * `GET /phone_numbers?filter[phone_number]=…`); the simulator answers with just the fields doctor reads.
 */
export interface AccountDeps {
  /** The one Fax Application the simulated account has. */
  connectionId: string;
  /** Numbers on the account; null means every E.164 number (sandbox owns them all). */
  phoneNumbers: readonly string[] | null;
  /** Set when the application has no outbound voice profile (faxes then fail with no_outbound_profile). */
  outboundVoiceProfileId: string | null;
}

const E164 = /^\+[1-9]\d{7,14}$/;

export function getFaxApplication(account: AccountDeps, id: string): ApiResponse {
  if (id !== account.connectionId) {
    return { status: 404, body: envelope(telnyxError('notFound', 'The requested resource does not exist')) };
  }
  return {
    status: 200,
    body: {
      data: {
        id,
        record_type: 'fax_application',
        application_name: 'faxbridge simulator',
        active: true,
        outbound: { channel_limit: null, outbound_voice_profile_id: account.outboundVoiceProfileId },
      },
    },
  };
}

/** `filter[phone_number]` matches one number exactly, as faxbridge uses it; without it, every number. */
export function listPhoneNumbers(account: AccountDeps, query: URLSearchParams): ApiResponse {
  const wanted = query.get('filter[phone_number]');
  let numbers: string[];
  if (wanted === null) numbers = account.phoneNumbers ? [...account.phoneNumbers] : [];
  else if (account.phoneNumbers === null) numbers = E164.test(wanted) ? [wanted] : [];
  else numbers = account.phoneNumbers.filter((number) => number === wanted);
  const data = numbers.map((phoneNumber, index) => ({
    id: String(1_000_000_000_000_000_000n + BigInt(index)),
    record_type: 'phone_number',
    phone_number: phoneNumber,
    status: 'active',
    connection_id: account.connectionId,
  }));
  return {
    status: 200,
    body: {
      data,
      meta: {
        total_results: data.length,
        total_pages: 1,
        page_number: 1,
        page_size: Math.max(data.length, 20),
      },
    },
  };
}

/**
 * Every Telnyx `failure_reason` (docs/telnyx.md §5.3), its retry class (docs/behaviour.md §4) and the words a
 * receipt uses for it. Telnyx documents the field as an open string, so unknown values are classed `final`
 * and described with their raw code rather than dropped.
 */
export type RetryClass = 'busy' | 'no_answer' | 'dropped' | 'channel_limit' | 'final';

export interface FailureDescription {
  /** A few words that fit a subject: `Fax to +E164 failed: <short>`. */
  short: string;
  /** One plain sentence saying what happened. */
  explanation: string;
  /** What the sender should do next. */
  advice: string;
}

/**
 * Reasons faxbridge itself reports when Telnyx gave no `failure_reason`: a 4xx from the API (quote its detail
 * in `failureDetail`), the API unreachable for `retry.api_give_up`, or no final event within 24 hours.
 */
export const INTERNAL_FAILURE_REASONS = {
  apiRejected: 'telnyx_api_rejected',
  apiUnreachable: 'telnyx_api_unreachable',
  outcomeUnknown: 'outcome_unknown',
  documentMissing: 'document_missing',
  notPrepared: 'document_not_prepared',
} as const;

/** Advice shared by several reasons; each reason still has its own short text and explanation. */
const ADVICE = {
  checkNumber:
    'Check the fax number with the recipient (with its country code) and send the email again to the corrected address.',
  checkNumberThenLater:
    'Check the fax number with the recipient (with its country code); if it is right, send the email again later.',
  tryLater:
    'Send the email again later; if it keeps failing, call the recipient to check that their fax machine is on and free.',
  resend:
    'Send the email again; a fax usually gets through on a later try. If it keeps failing, ask the recipient to check their fax machine (paper, memory, line).',
  resendEcm:
    'Send the email again; if it keeps failing, ask the recipient to turn error correction (ECM) off on their fax machine.',
  checkFaxLine:
    'Check that the number is a fax line (not a phone or voicemail) and that the fax machine is switched on, then send the email again.',
  adminAccount:
    'This is a problem with the fax account, not with your document: contact your administrator, quoting the reason code below, then send the email again.',
  adminDestination:
    'The fax account is not allowed to call this destination: contact your administrator if it needs to be enabled.',
  adminPublicUrl:
    'Contact your administrator: the fax service must be able to reach faxbridge at its public address. Then send the email again.',
  capacity:
    'Send the email again in a few minutes; if this happens often, ask your administrator to raise the channel limit.',
  spendLimit: 'Send the email again tomorrow, or ask your administrator to raise the daily spending limit.',
  documentUnreadable:
    'Print the document to a new PDF (for example with "Print to PDF"), without a password, and send that instead.',
  documentTooBig:
    'Split the document into smaller PDFs (under 50 MB and 350 pages each) and send them in separate emails.',
  declined: 'Ask the recipient whether they accept faxes from your number, then send the email again.',
  cancelled: 'If you did not mean to cancel it, send the email again.',
  rejected:
    'Check the number and the document, then send the email again; if it is rejected again, contact your administrator.',
  apiRejected:
    'Check the number and the document; if the answer mentions the account or a setting, contact your administrator.',
  apiUnreachable: 'Send the email again later. If this keeps happening, tell your administrator.',
  documentGone: 'Send the email again with the document attached.',
  outcomeUnknown:
    'Ask the recipient whether the fax arrived before sending it again, so that it is not received twice.',
} as const;

/**
 * One row per reason: `reason | class | short | explanation | advice key`. A text table keeps the rows
 * readable side by side (a formatter would spread an array literal over 400 lines); it is parsed and
 * checked once when the module loads, so a typo in a class or advice key fails at startup and in the tests.
 */
const ROWS = `
user_busy | busy | the line was busy | The receiving number was busy each time it was called. | tryLater
receiver_no_answer | no_answer | nobody answered | The number rang, but no fax machine answered the call. | checkFaxLine
receiver_no_response | no_answer | the receiving machine did not respond | The call connected, but the receiving fax machine never responded. | checkFaxLine
fax_initial_communication_timeout | no_answer | no fax machine answered | The call was answered, but no fax machine started the fax handshake in time (a person or voicemail may have answered). | checkFaxLine
receiver_call_dropped | dropped | the recipient hung up | The receiving side ended the call before the fax was complete. | resend
sender_call_dropped | dropped | the call was dropped | The call was ended on the sending side before the fax was complete. | resend
carrier_lost | dropped | the connection was lost | The fax signal was lost during the call, usually because of a noisy line. | resend
receiver_communication_error | dropped | the receiving machine reported an error | The receiving fax machine reported an error while the pages were being sent. | resend
sender_communication_error | dropped | a transmission error on the sending side | The sending side hit a communication error while transmitting the pages. | resend
fax_signaling_error | dropped | the fax machines could not agree | The two fax machines could not agree on how to exchange the fax (a signalling error). | resend
invalid_ecm_response_from_receiver | dropped | error correction failed | The receiving machine answered the error-correction (ECM) checks wrongly, so the pages could not be confirmed. | resendEcm
receiver_recovery_on_timer_expire | dropped | the receiving machine stopped responding | The receiving machine stopped answering in the middle of the fax and the call timed out. | resend
service_unavailable | dropped | the fax service was temporarily unavailable | The telephone network or the fax service was temporarily unavailable. | tryLater
destination_unreachable | dropped | the number could not be reached | The telephone network could not reach the receiving number. | checkNumberThenLater
media_processing_exception | dropped | the document could not be prepared | The fax service hit an error while turning your document into fax pages. | documentUnreadable
file_download_failed | dropped | the fax service could not fetch the document | The fax service could not download your document from faxbridge. | adminPublicUrl
user_channel_limit_exceeded | channel_limit | all fax lines of the account were in use | The fax account had no free line: every channel it may use was busy. | capacity
outbound_profile_channel_limit_exceeded | channel_limit | all lines of the outbound profile were in use | The outbound profile used for this fax had no free channel. | capacity
connection_channel_limit_exceeded | channel_limit | all lines of the fax connection were in use | The fax application had reached its limit of simultaneous calls. | capacity
receiver_unallocated_number | final | the number does not exist | The telephone network reports that this number is not assigned to anyone. | checkNumber
receiver_invalid_number_format | final | the number is not valid | The telephone network could not dial the number because its format is invalid. | checkNumber
receiver_decline | final | the recipient declined the call | The receiving side rejected the call. | declined
receiver_incompatible_destination | final | the number is not a fax machine | The receiving number answered but cannot take faxes: it is not a compatible fax device. | checkNumber
destination_invalid | final | the destination is invalid | The fax service refused to call this number because it is not a valid destination. | checkNumber
destination_not_in_service_plan | final | the destination is not in the account's plan | The fax account's service plan does not include calls to this destination. | adminDestination
destination_not_in_countries_whitelist | final | the destination country is not allowed | The fax account is not allowed to call this country. | adminDestination
no_outbound_profile | final | the fax account has no outbound profile | The fax application has no outbound voice profile, so it cannot place calls. | adminAccount
account_disabled | final | the fax account is disabled | The Telnyx account used to send faxes is disabled. | adminAccount
unverified_origination_number | final | the sending number is not verified | The number this fax is sent from is not verified on the fax account. | adminAccount
unverified_destination_not_allowed | final | the account may only fax verified numbers | The fax account may only send to verified numbers, and this number is not one of them. | adminAccount
outbound_profile_daily_spend_limit_exceeded | final | the daily spending limit was reached | The fax account reached its daily spending limit. | spendLimit
file_format_invalid | final | the document could not be read | The fax service could not read the document as a PDF. | documentUnreadable
file_size_limit_exceeded | final | the document is too large | The document is larger than the fax service accepts (50 MB). | documentTooBig
page_count_limit_exceeded | final | the document has too many pages | The document has more pages than the fax service accepts (350). | documentTooBig
sender_canceled | final | the fax was cancelled | The fax was cancelled before it was delivered. | cancelled
rejected | final | the fax service rejected it | The fax service rejected the fax without giving a more specific reason. | rejected
telnyx_api_rejected | final | the fax service refused the request | The fax service refused to send this fax; its answer is quoted below. | apiRejected
telnyx_api_unreachable | final | the fax service could not be reached | faxbridge could not reach the fax service for a long time and gave up. | apiUnreachable
document_missing | final | the document was no longer stored | The document was deleted from faxbridge (by retention or by an operator) before the fax could be sent. | documentGone
document_not_prepared | final | the pages could not be prepared for faxing | faxbridge could not add the header line and cover page to the document's pages. | documentUnreadable
outcome_unknown | final | the outcome is unknown | The fax was handed to the fax service, but it never reported whether the fax was delivered. | outcomeUnknown
`;

interface Entry extends FailureDescription {
  retryClass: RetryClass;
}

const RETRY_CLASSES: readonly string[] = ['busy', 'no_answer', 'dropped', 'channel_limit', 'final'];

function parseRows(rows: string): ReadonlyMap<string, Entry> {
  const table = new Map<string, Entry>();
  for (const line of rows.split('\n').filter((row) => row.trim())) {
    const [reason, retryClass, short, explanation, adviceKey, ...extra] = line
      .split('|')
      .map((c) => c.trim());
    const advice = ADVICE[adviceKey as keyof typeof ADVICE] as string | undefined;
    if (
      !reason ||
      !short ||
      !explanation ||
      !advice ||
      extra.length ||
      !RETRY_CLASSES.includes(retryClass!)
    ) {
      throw new Error(`failureReasons: malformed row: ${line}`);
    }
    table.set(reason, { retryClass: retryClass as RetryClass, short, explanation, advice });
  }
  return table;
}

const TABLE = parseRows(ROWS);

/** All reasons with their own description: the Telnyx values and faxbridge's internal ones. */
export const KNOWN_FAILURE_REASONS: readonly string[] = [...TABLE.keys()];

/** Telnyx sends lower-case snake_case; tolerate stray case and whitespace rather than calling it unknown. */
function lookup(reason: string | null | undefined): Entry | undefined {
  return reason ? TABLE.get(reason.trim().toLowerCase()) : undefined;
}

export function isKnownFailureReason(reason: string | null | undefined): boolean {
  return lookup(reason) !== undefined;
}

/** The retry class of a failure_reason (docs/behaviour.md §4); unknown and missing reasons are `final`. */
export function classifyFailure(reason: string | null | undefined): RetryClass {
  return lookup(reason)?.retryClass ?? 'final';
}

/** A raw code safe to put in a subject line: printable ASCII, no line breaks, bounded. */
function printableCode(reason: string): string {
  return reason
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 60);
}

export function describeFailure(reason: string | null | undefined): FailureDescription {
  const entry = lookup(reason);
  if (entry) return { short: entry.short, explanation: entry.explanation, advice: entry.advice };
  const code = reason ? printableCode(reason) : '';
  if (!code) {
    return {
      short: 'no reason given',
      explanation: 'The fax service reported that the fax failed but did not say why.',
      advice: 'Send the email again later; if it fails again, contact your administrator.',
    };
  }
  return {
    short: `fax service error ${code}`,
    explanation: `The fax service reported the failure reason "${code}", which faxbridge does not describe yet.`,
    advice: `Send the email again later; if it fails the same way, contact your administrator and quote "${code}".`,
  };
}

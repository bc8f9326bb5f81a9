// Twilio's vocabulary mapped onto Herald's: message status words and error codes, in one place.
// Status words: https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
// Error codes: https://www.twilio.com/docs/api/errors/<code>

import type { MessageStatus } from '../../domain/status-machine.js';
import type { ProviderErrorCode } from '../types.js';

/**
 * Every `status` of an outbound Message (REST answers and StatusCallback `MessageStatus`).
 * `receiving` and `received` belong to inbound messages and are deliberately absent.
 */
export const twilioStatusWords = {
  // Twilio holds the message but has not handed it to a carrier: for Herald it is SENT
  // (the provider took it). `accepted` and `scheduled` are Messaging Service states.
  accepted: 'SENT',
  scheduled: 'SENT',
  queued: 'SENT',
  sending: 'SENT',
  sent: 'SENT',
  delivered: 'DELIVERED',
  // A read receipt (WhatsApp, RCS) implies delivery.
  read: 'DELIVERED',
  undelivered: 'UNDELIVERED',
  // Only some segments arrived: the recipient does not have the message as written.
  partially_delivered: 'UNDELIVERED',
  // Twilio could not send it at all (carrier refusal, filtering, account problems).
  failed: 'FAILED',
  // A scheduled message canceled at Twilio (never by Herald, which schedules itself): it
  // will not be sent, and CANCELED is not a move Herald allows once a provider has it.
  canceled: 'FAILED',
} as const satisfies Record<string, MessageStatus>;

export type TwilioStatusWord = keyof typeof twilioStatusWords;

export function isTwilioStatusWord(word: string): word is TwilioStatusWord {
  return Object.hasOwn(twilioStatusWords, word);
}

/**
 * How a Twilio error code answers a submission. `rejected`: the message itself is refused and
 * no provider will do better (bad number, opted out, content). `retryable`: Twilio-side or
 * account-side (credentials, geo permissions, sender set-up, throttling): another provider may
 * take it. Codes that only appear in delivery reports (30xxx) carry a kind too, for the rare
 * case Twilio answers a submission with one.
 */
interface ErrorEntry {
  code: ProviderErrorCode;
  kind: 'rejected' | 'retryable';
}

const entry = (code: ProviderErrorCode, kind: ErrorEntry['kind']): ErrorEntry => ({ code, kind });

export const twilioErrorCodes: Readonly<Record<string, ErrorEntry>> = {
  // Credentials and account (REST API, 20xxx).
  '20003': entry('ACCOUNT_ERROR', 'retryable'), // Authentication error / permission denied
  '20005': entry('ACCOUNT_ERROR', 'retryable'), // Account not active
  '20008': entry('ACCOUNT_ERROR', 'retryable'), // Test credentials cannot reach this resource
  '20404': entry('ACCOUNT_ERROR', 'retryable'), // Resource not found: on create, a wrong AccountSid
  '20429': entry('THROTTLED', 'retryable'), // Too many requests
  '20500': entry('PROVIDER_ERROR', 'retryable'), // Internal server error
  '20503': entry('PROVIDER_ERROR', 'retryable'), // Service unavailable
  // Recipient (21xxx, answered at submission).
  '21211': entry('INVALID_NUMBER', 'rejected'), // Invalid 'To' phone number
  '21214': entry('INVALID_NUMBER', 'rejected'), // 'To' phone number cannot be reached
  '21265': entry('INVALID_NUMBER', 'rejected'), // 'To' number cannot be a short code
  '21266': entry('INVALID_NUMBER', 'rejected'), // 'To' and 'From' numbers cannot be the same
  '21614': entry('INVALID_NUMBER', 'rejected'), // 'To' number is not a valid mobile number
  '21635': entry('INVALID_NUMBER', 'rejected'), // 'To' number cannot be a landline
  '21610': entry('BLOCKED', 'rejected'), // Attempt to send to unsubscribed recipient (replied STOP)
  // Routing permissions and sender set-up at this Twilio account: the message is fine, another
  // provider (or a fixed configuration) may send it.
  '21408': entry('BLOCKED', 'retryable'), // Geo permission for the 'To' region not enabled
  '21612': entry('BLOCKED', 'retryable'), // No route for this 'To'/'From' combination
  '21606': entry('BLOCKED', 'retryable'), // 'From' is not a message-capable Twilio number for this destination
  '21659': entry('BLOCKED', 'retryable'), // 'From' is not a Twilio number, or short code country mismatch
  '21212': entry('BLOCKED', 'retryable'), // Invalid 'From' phone number
  '21601': entry('BLOCKED', 'retryable'), // 'From' is not an SMS-capable number of this account
  '21603': entry('ACCOUNT_ERROR', 'retryable'), // 'From' required (no TWILIO_FROM or service)
  '21608': entry('ACCOUNT_ERROR', 'retryable'), // Trial account: 'To' not verified
  '21703': entry('ACCOUNT_ERROR', 'retryable'), // Messaging Service has no sender for this message
  '21611': entry('THROTTLED', 'retryable'), // 'From' has exceeded its queue of messages
  // Content.
  '21602': entry('CONTENT_REJECTED', 'rejected'), // Body is required
  '21617': entry('CONTENT_REJECTED', 'rejected'), // Body exceeds the 1600 character limit
  // Delivery (30xxx, mostly in StatusCallback ErrorCode).
  '30001': entry('THROTTLED', 'retryable'), // Queue overflow
  '30002': entry('ACCOUNT_ERROR', 'retryable'), // Account suspended
  '30003': entry('UNDELIVERABLE', 'retryable'), // Unreachable destination handset
  '30004': entry('BLOCKED', 'rejected'), // Message blocked (by the recipient or carrier)
  '30005': entry('INVALID_NUMBER', 'rejected'), // Unknown destination handset
  '30006': entry('INVALID_NUMBER', 'rejected'), // Landline or unreachable carrier
  '30007': entry('CONTENT_REJECTED', 'rejected'), // Message filtered (carrier violation)
  '30008': entry('UNKNOWN', 'retryable'), // Unknown error
  '30009': entry('UNDELIVERABLE', 'retryable'), // Missing segment
  '30010': entry('ACCOUNT_ERROR', 'retryable'), // Message price exceeds MaxPrice
  '30017': entry('UNDELIVERABLE', 'retryable'), // Carrier network congestion
  '30018': entry('BLOCKED', 'retryable'), // Carrier requires sender id pre-registration
  '30022': entry('THROTTLED', 'retryable'), // US A2P 10DLC rate limits exceeded
  '30023': entry('THROTTLED', 'retryable'), // US A2P 10DLC daily cap reached
  '30024': entry('BLOCKED', 'retryable'), // Numeric sender id not provisioned on carrier
  '30032': entry('BLOCKED', 'retryable'), // Toll-free number not verified
  '30034': entry('BLOCKED', 'retryable'), // US A2P 10DLC: message from an unregistered number
  '30036': entry('EXPIRED', 'retryable'), // Validity period expired
};

/**
 * The Herald code and submission kind for a Twilio error code. Unknown codes are UNKNOWN:
 * permanent when Twilio answered 4xx (it judged the request itself), transient otherwise.
 */
export function classifyTwilioError(code: string | undefined, httpStatus?: number): ErrorEntry {
  const known = code === undefined ? undefined : twilioErrorCodes[code];
  if (known) return known;
  if (httpStatus === 401 || httpStatus === 403) return entry('ACCOUNT_ERROR', 'retryable');
  if (httpStatus === 429) return entry('THROTTLED', 'retryable');
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500 && httpStatus !== 408) return entry('UNKNOWN', 'rejected');
  if (httpStatus !== undefined && httpStatus >= 500) return entry('PROVIDER_ERROR', 'retryable');
  return entry('UNKNOWN', 'retryable');
}

/** The Herald error code for a delivery report's ErrorCode. */
export function mapTwilioReportError(code: string): ProviderErrorCode {
  return twilioErrorCodes[code]?.code ?? 'UNKNOWN';
}

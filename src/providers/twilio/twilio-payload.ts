// Twilio's webhook bodies (form-encoded) read into Herald's reports. Status callbacks:
// https://www.twilio.com/docs/messaging/guides/track-outbound-message-status ; incoming
// messages: https://www.twilio.com/docs/messaging/guides/webhook-request

import { z } from 'zod';
import { parseTwilioForm } from './twilio-signature.js';
import { isTwilioStatusWord, mapTwilioReportError, twilioStatusWords } from './twilio-status.js';
import { WebhookPayloadError, type InboundReport, type StatusReport } from '../types.js';

const nonEmpty = z.string().min(1);

// Twilio sends both the current names and the legacy Sms* ones; either identifies the message.
const statusCallbackSchema = z
  .object({
    MessageSid: nonEmpty.optional(),
    SmsSid: nonEmpty.optional(),
    MessageStatus: nonEmpty.optional(),
    SmsStatus: nonEmpty.optional(),
    ErrorCode: z.string().optional(),
  })
  .refine((p) => p.MessageSid ?? p.SmsSid, { message: 'MessageSid is required', path: ['MessageSid'] })
  .refine((p) => p.MessageStatus ?? p.SmsStatus, { message: 'MessageStatus is required', path: ['MessageStatus'] });

const inboundSchema = z.object({
  MessageSid: nonEmpty,
  From: nonEmpty,
  To: nonEmpty,
  // An MMS with only a picture has an empty Body; media itself is not carried over.
  Body: z.string().default(''),
});

/** One value per name: Twilio's message webhooks never repeat a parameter. */
function readForm(rawBody: Buffer): Record<string, string> {
  return Object.fromEntries(Object.entries(parseTwilioForm(rawBody)).map(([name, values]) => [name, values[0]]));
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
}

/** The `ref` query parameter Herald put in the StatusCallback URL (our message id). */
export function referenceFromUrl(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('ref') || undefined;
  } catch {
    return undefined;
  }
}

/** One StatusCallback call is one report. */
export function parseTwilioStatusCallback(rawBody: Buffer, url: string): StatusReport[] {
  const parsed = statusCallbackSchema.safeParse(readForm(rawBody));
  if (!parsed.success) throw new WebhookPayloadError('twilio', 'not a message status callback', issuesOf(parsed.error));
  const sid = (parsed.data.MessageSid ?? parsed.data.SmsSid)!;
  const status = (parsed.data.MessageStatus ?? parsed.data.SmsStatus)!;
  // receiving/received are inbound states: not a report about a message we sent.
  if (!isTwilioStatusWord(status)) throw new WebhookPayloadError('twilio', 'not an outbound message status', [`MessageStatus: ${status}`]);
  const errorCode = parsed.data.ErrorCode;
  const reference = referenceFromUrl(url);
  return [
    {
      ...(reference ? { reference } : {}),
      providerMessageId: sid,
      ...reportFields(status, errorCode),
    },
  ];
}

/** Status, raw status and error fields for a Twilio status word and ErrorCode. */
export function reportFields(status: keyof typeof twilioStatusWords, errorCode: string | number | null | undefined): Pick<StatusReport, 'status' | 'rawStatus' | 'errorCode' | 'rawErrorCode'> {
  const mapped = twilioStatusWords[status];
  const raw = errorCode === null || errorCode === undefined ? '' : String(errorCode);
  // Twilio sends no ErrorCode (or 0) on success; one on a non-failure report is a passing
  // warning that decides nothing, so only failed and undelivered reports carry it.
  const hasError = raw !== '' && raw !== '0' && (mapped === 'UNDELIVERED' || mapped === 'FAILED');
  return {
    status: mapped,
    rawStatus: status,
    ...(hasError ? { errorCode: mapTwilioReportError(raw), rawErrorCode: raw } : {}),
  };
}

export function parseTwilioInbound(rawBody: Buffer): InboundReport[] {
  const parsed = inboundSchema.safeParse(readForm(rawBody));
  if (!parsed.success) throw new WebhookPayloadError('twilio', 'not an incoming message', issuesOf(parsed.error));
  const { MessageSid, From, To, Body } = parsed.data;
  return [{ from: From, to: To, body: Body, providerMessageId: MessageSid }];
}

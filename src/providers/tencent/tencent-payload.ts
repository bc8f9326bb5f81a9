// Tencent SMS wire formats, parsed with zod where they enter Herald.
//
// API answers (HTTP 200 whether or not the call worked, https://cloud.tencent.com/document/api/382/52075):
//   {"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"…"},"RequestId":"…"}}
//   SendSms:  {"Response":{"SendStatusSet":[{"SerialNo","PhoneNumber","Fee","SessionContext","Code":"Ok",
//              "Message","IsoCode"}],"RequestId":"…"}}   (https://cloud.tencent.com/document/api/382/55981)
//   PullSmsSendStatusByPhoneNumber: {"Response":{"PullSmsSendStatusSet":[{"UserReceiveTime":<unix s>,
//              "CountryCode","SubscriberNumber","PhoneNumber","SerialNo","ReportStatus","Description",
//              "SessionContext"}],"RequestId":"…"}}
// Status callback (https://cloud.tencent.com/document/api/382/59178), a JSON array of up to 100:
//   [{"user_receive_time":"2015-10-17 08:03:04","nationcode":"86","mobile":"13xxxxxxxxx",
//     "report_status":"SUCCESS"|"FAIL","errmsg":"DELIVRD","description":"…","sid":"<SerialNo>",
//     "ext":"<SessionContext, only when Tencent enabled it for the account>"}]
// Reply callback (https://www.tencentcloud.com/document/api/382/43548), one object:
//   {"extend":"","mobile":"13xxxxxxxxx","nationcode":"86","sign":"<signature name>","text":"…","time":1457336869}
// Neither callback is signed: the token in the callback URL is the only authentication.

import { z } from 'zod';
import { mapTencentReceipt, type TencentReportStatus } from './tencent-status.js';
import { WebhookPayloadError, type InboundReport, type StatusReport } from '../types.js';

const errorSchema = z.object({ Code: z.string().min(1), Message: z.string().optional() });

const sendStatusSchema = z.object({
  SerialNo: z.string().optional(),
  PhoneNumber: z.string().optional(),
  Fee: z.number().optional(),
  SessionContext: z.string().optional(),
  Code: z.string().min(1),
  Message: z.string().optional(),
  IsoCode: z.string().optional(),
});

export const sendSmsAnswerSchema = z.object({
  Response: z.object({
    Error: errorSchema.optional(),
    SendStatusSet: z.array(sendStatusSchema).optional(),
    RequestId: z.string().optional(),
  }),
});

export type TencentSendStatus = z.infer<typeof sendStatusSchema>;

const reportStatusSchema = z.enum(['SUCCESS', 'FAIL']);

const pullStatusSchema = z.object({
  UserReceiveTime: z.number().nullish(),
  CountryCode: z.string().nullish(),
  SubscriberNumber: z.string().nullish(),
  PhoneNumber: z.string().nullish(),
  SerialNo: z.string().nullish(),
  // Empty until the carrier answered; Tencent documents only SUCCESS and FAIL.
  ReportStatus: z.string().nullish(),
  Description: z.string().nullish(),
  SessionContext: z.string().nullish(),
});

export const pullStatusAnswerSchema = z.object({
  Response: z.object({
    Error: errorSchema.optional(),
    PullSmsSendStatusSet: z.array(pullStatusSchema).optional(),
    RequestId: z.string().optional(),
  }),
});

export type TencentPullStatus = z.infer<typeof pullStatusSchema>;

const statusCallbackSchema = z.object({
  user_receive_time: z.string().optional(),
  nationcode: z.string().optional(),
  mobile: z.string().optional(),
  report_status: reportStatusSchema,
  errmsg: z.string().optional(),
  description: z.string().optional(),
  sid: z.string().min(1).max(200),
  ext: z.string().max(512).optional(),
});

export type TencentStatusCallback = z.infer<typeof statusCallbackSchema>;

const replyCallbackSchema = z.object({
  extend: z.string().nullish(),
  mobile: z.string().regex(/^\d{3,20}$/),
  nationcode: z.string().regex(/^\+?\d{1,4}$/),
  sign: z.string(),
  text: z.string().max(10_000),
  time: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]),
});

export type TencentReplyCallback = z.input<typeof replyCallbackSchema>;

/** Tencent pushes at most 100 reports per call; a little headroom, and no unbounded batches. */
const MAX_BATCH = 1000;

function parseJson(provider: string, rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookPayloadError(provider, 'body is not JSON');
  }
}

const issuesOf = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

/**
 * `user_receive_time` is China Standard Time without a zone (Tencent's console and docs are
 * in UTC+8; the pull API's Unix seconds for the same report agree with that reading).
 */
export function parseTencentLocalTime(value: string | undefined): Date | undefined {
  const match = value && /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(value);
  if (!match) return undefined;
  const date = new Date(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}+08:00`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** One receipt (callback or pull) as a Herald report. */
export function toStatusReport(fields: {
  serialNo: string;
  reportStatus: TencentReportStatus;
  errmsg?: string;
  sessionContext?: string;
  occurredAt?: Date;
}): StatusReport {
  const { status, errorCode } = mapTencentReceipt(fields.reportStatus, fields.errmsg);
  return {
    providerMessageId: fields.serialNo,
    // SessionContext is our message id; Tencent echoes it only where enabled for the account.
    ...(fields.sessionContext ? { reference: fields.sessionContext } : {}),
    status,
    rawStatus: fields.reportStatus,
    ...(errorCode ? { errorCode } : {}),
    // errmsg is DELIVRD on success, a carrier code on failure: the code is what explains a failure.
    ...(fields.reportStatus === 'FAIL' && fields.errmsg ? { rawErrorCode: fields.errmsg } : {}),
    ...(fields.occurredAt ? { occurredAt: fields.occurredAt } : {}),
  };
}

export function parseTencentStatusCallback(provider: string, rawBody: Buffer): StatusReport[] {
  const json = parseJson(provider, rawBody);
  if (!Array.isArray(json) || json.length === 0) throw new WebhookPayloadError(provider, 'expected a non-empty JSON array of reports');
  if (json.length > MAX_BATCH) throw new WebhookPayloadError(provider, `more than ${MAX_BATCH} reports in one call`);
  const parsed = z.array(statusCallbackSchema).safeParse(json);
  if (!parsed.success) throw new WebhookPayloadError(provider, 'not a Tencent status report', issuesOf(parsed.error));
  return parsed.data.map((item) =>
    toStatusReport({
      serialNo: item.sid,
      reportStatus: item.report_status,
      errmsg: item.errmsg,
      sessionContext: item.ext,
      occurredAt: parseTencentLocalTime(item.user_receive_time),
    }),
  );
}

/** Tencent documents one reply per call; an array of them is read the same way. */
export function parseTencentReplyCallback(provider: string, rawBody: Buffer): InboundReport[] {
  const json = parseJson(provider, rawBody);
  const items = Array.isArray(json) ? json : [json];
  if (items.length === 0 || items.length > MAX_BATCH) throw new WebhookPayloadError(provider, 'expected one reply or a non-empty array of replies');
  const parsed = z.array(replyCallbackSchema).safeParse(items);
  if (!parsed.success) throw new WebhookPayloadError(provider, 'not a Tencent reply', issuesOf(parsed.error));
  return parsed.data.map((item) => ({
    from: `+${item.nationcode.replace(/^\+/, '')}${item.mobile}`,
    // Replies come back to the signature the message was sent under: it is the sender identity.
    to: item.sign,
    body: item.text,
    receivedAt: new Date(item.time * 1000),
  }));
}

// Aliyun's wire formats, parsed with zod where they enter.
//
// HTTP batch push ("HTTP批量推送模式"), unsigned JSON arrays POSTed to the URLs configured in
// the console (https://help.aliyun.com/zh/sms/developer-reference/smsreport-2,
// https://help.aliyun.com/knowledge_detail/60127.html):
//   SmsReport: [{ "phone_number": "1381111****", "send_time": "2017-01-01 00:00:00",
//                 "report_time": "2017-01-01 00:00:00", "success": true, "err_code": "DELIVERED",
//                 "err_msg": "用户接收成功", "sms_size": "1", "biz_id": "12345", "out_id": "67890" }]
//   SmsUp:     [{ "phone_number": "1381111****", "send_time": "2017-09-01 00:00:00",
//                 "content": "内容", "sign_name": "签名", "dest_code": "1234", "sequence_id": 1234567890 }]
// Times are Beijing time (UTC+8) without a zone. Aliyun only checks that the answer is HTTP
// 200 with a numeric "code"; anything else is retried after 1, 5 and 10 minutes.
//
// RPC answers (Format=JSON): SendSms { Code, Message, BizId, RequestId }; QuerySendDetails
// { Code, Message, RequestId, TotalCount, SmsSendDetailDTOs: { SmsSendDetailDTO: [...] } };
// errors { Code, Message, RequestId, HostId?, Recommend? } with HTTP 200 (isv.*) or 4xx/5xx.

import { z } from 'zod';
import { classifyAliyunReceipt } from './aliyun-status.js';
import { WebhookPayloadError, type InboundReport, type StatusReport } from '../types.js';

const CHINA_OFFSET = '+08:00';
const chinaTime = z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'expected yyyy-MM-dd HH:mm:ss');

/** "2017-01-01 00:00:00" (Beijing time) as an instant. */
export function parseChinaTime(value: string): Date {
  return new Date(`${value.replace(' ', 'T')}${CHINA_OFFSET}`);
}

/** An instant as Aliyun writes it: "2017-01-01 08:00:00" in Beijing time. */
export function formatChinaTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The Beijing calendar day of an instant as yyyyMMdd (QuerySendDetails SendDate). */
export function chinaDate(at: Date): string {
  return formatChinaTime(at).slice(0, 10).replaceAll('-', '');
}

/**
 * E.164 to Aliyun's PhoneNumbers format: mainland numbers as the bare 11 digits, others as
 * country code + number without "+" (SendSms: "国际/港澳台消息:国际区号+号码").
 */
export function toAliyunNumber(e164: string): string {
  const digits = e164.replace(/^\+/, '');
  return digits.startsWith('86') && digits.length === 13 ? digits.slice(2) : digits;
}

/** Aliyun's phone_number (mainland without prefix, others with country code) to E.164. */
export function fromAliyunNumber(raw: string): string {
  const number = raw.replace(/[\s-]/g, '');
  if (number.startsWith('+')) return number;
  if (number.startsWith('00')) return `+${number.slice(2)}`;
  if (/^1\d{10}$/.test(number)) return `+86${number}`;
  return `+${number}`;
}

const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

const smsReportSchema = z.object({
  phone_number: z.string().min(1).max(32),
  send_time: chinaTime.optional(),
  report_time: chinaTime.optional(),
  success: booleanish,
  err_code: z.string().max(100).default(''),
  err_msg: z.string().max(1000).optional(),
  sms_size: z.union([z.string(), z.number()]).optional(),
  biz_id: z.string().min(1).max(200),
  out_id: z.string().max(256).optional(),
});

const smsUpSchema = z.object({
  phone_number: z.string().min(1).max(32),
  send_time: chinaTime.optional(),
  content: z.string().max(10_000),
  sign_name: z.string().min(1).max(100),
  dest_code: z.string().max(32).optional(),
  sequence_id: z.union([z.number().int(), z.string().min(1).max(64)]).transform(String),
});

export type AliyunSmsReport = z.input<typeof smsReportSchema>;
export type AliyunSmsUp = z.input<typeof smsUpSchema>;

/** Aliyun always pushes a non-empty array; a bounded batch keeps one call's work bounded. */
function parseArray<T extends z.ZodType>(rawBody: Buffer, schema: T): z.output<T>[] {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookPayloadError('aliyun', 'body is not JSON');
  }
  if (!Array.isArray(json)) throw new WebhookPayloadError('aliyun', 'body is not a JSON array');
  const parsed = z.array(schema).min(1).max(1000).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new WebhookPayloadError('aliyun', 'unexpected shape', issues);
  }
  return parsed.data;
}

export function parseAliyunReports(rawBody: Buffer): StatusReport[] {
  return parseArray(rawBody, smsReportSchema).map((report): StatusReport => {
    // rawStatus is Aliyun's err_code ("DELIVERED", "MK:0001", ...): the most telling word it sends.
    const rawStatus = report.err_code || (report.success ? 'success' : 'failure');
    const common = {
      providerMessageId: report.biz_id,
      ...(report.out_id ? { reference: report.out_id } : {}),
      ...(report.report_time ? { occurredAt: parseChinaTime(report.report_time) } : {}),
    };
    if (report.success) return { ...common, status: 'DELIVERED', rawStatus };
    const outcome = classifyAliyunReceipt(report.err_code);
    return { ...common, status: outcome.status, rawStatus, errorCode: outcome.errorCode, rawErrorCode: report.err_code || rawStatus };
  });
}

export function parseAliyunInbound(rawBody: Buffer): InboundReport[] {
  return parseArray(rawBody, smsUpSchema).map((up) => ({
    from: fromAliyunNumber(up.phone_number),
    // Replies reach the account through its signature: the sign name is the sender identity.
    to: up.sign_name,
    body: up.content,
    providerMessageId: up.sequence_id,
    ...(up.send_time ? { receivedAt: parseChinaTime(up.send_time) } : {}),
  }));
}

/** Any RPC answer: an error has a Code other than OK (and maybe an HTTP error status). */
export const rpcAnswerSchema = z.looseObject({
  Code: z.string().min(1),
  Message: z.string().optional(),
  RequestId: z.string().optional(),
});

export const sendSmsAnswerSchema = rpcAnswerSchema.extend({ BizId: z.string().min(1) });

export const sendDetailSchema = z.looseObject({
  PhoneNum: z.string().optional(),
  SendStatus: z.coerce.number().int(),
  ErrCode: z.string().optional(),
  OutId: z.string().optional(),
  SendDate: z.string().optional(),
  ReceiveDate: z.string().optional(),
  TemplateCode: z.string().optional(),
  Content: z.string().optional(),
});

export type AliyunSendDetail = z.output<typeof sendDetailSchema>;

export const querySendDetailsAnswerSchema = rpcAnswerSchema.extend({
  TotalCount: z.coerce.number().int().nonnegative().default(0),
  // Aliyun's JSON keeps the XML nesting; an empty result may leave the list out.
  SmsSendDetailDTOs: z.object({ SmsSendDetailDTO: z.array(sendDetailSchema).default([]) }).optional(),
});

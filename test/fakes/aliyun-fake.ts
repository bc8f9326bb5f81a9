// A local stand-in for Aliyun SMS (dysmsapi 2017-05-25) on 127.0.0.1, for unit, end-to-end
// and failover tests. Point Herald at it with ALIYUN_ENDPOINT=<fake.url> and the fake's keys.
//
//   const fake = await startAliyunFake({ reportUrl: `${herald}/webhooks/aliyun/status?token=…` });
//   … new AliyunProvider({ endpoint: fake.url, accessKeyId: fake.accessKeyId,
//                          accessKeySecret: fake.accessKeySecret, … })
//   fake.sent          // accepted SendSms submissions (BizId, number, template, OutId, status)
//   fake.received      // every RPC request, with the Code it was answered
//   fake.pushes        // every SmsReport / SmsUp push and Herald's answer
//   fake.setMode('503' | 'hang' | 'accept-then-hang' | 'reset' | 'ok')
//   fake.setError('13800138000', 'isv.AMOUNT_NOT_ENOUGH')   // per number (Aliyun format)
//   await fake.deliverReport(bizId, { success: false, errCode: 'MK:0001' })
//   await fake.sendInbound({ phoneNumber: '13800138000', content: 'TD' })
//   await fake.idle(); await fake.close();
//
// Like Aliyun it answers GET (query) or POST (form body) RPC calls and checks, in order: the
// common parameters (400 Missing<Name>), the AccessKeyId (404 InvalidAccessKeyId.NotFound),
// the Timestamp within 15 minutes (400 InvalidTimeStamp.Expired), the HMAC-SHA1 Signature
// (400 SignatureDoesNotMatch), then nonce reuse within 15 minutes (400 SignatureNonceUsed).
// Business refusals are HTTP 200 with an isv./isp. Code, as Aliyun answers them.
//
// Outcomes by the last four digits of PhoneNumbers (after setError overrides):
//   0000 accepted, then reported failed (err_code UNDELIV)   0005 isv.OUT_OF_SERVICE
//   0001 isv.MOBILE_NUMBER_ILLEGAL                            0006 isv.BLACK_KEY_CONTROL_LIMIT
//   0002 isv.BUSINESS_LIMIT_CONTROL                           0007 isp.SYSTEM_ERROR
//   0003 isv.DAY_LIMIT_CONTROL                                0008 isp.RAM_PERMISSION_DENY
//   0004 isv.AMOUNT_NOT_ENOUGH                                0009 isv.PARAM_LENGTH_LIMIT
//   anything else: accepted, then reported DELIVERED after reportDelayMs.
// With `templates` (TemplateCode → text with ${var}) unknown codes get isv.SMS_TEMPLATE_ILLEGAL
// and missing variables isv.TEMPLATE_MISSING_PARAMETERS; with `signNames` an unknown SignName
// gets isv.SMS_SIGNATURE_ILLEGAL. TemplateParam must be a JSON object (isv.INVALID_JSON_PARAM).
//
// Reports are pushed as Aliyun does (JSON array, unsigned, application/json) to `reportUrl`,
// replies to `upUrl`; Herald must answer 200 with a numeric "code". One attempt per push (Aliyun
// retries after 1, 5 and 10 minutes, which no test wants to wait for); results are in `pushes`.

import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AliyunFakeMode = 'ok' | '503' | 'hang' | 'accept-then-hang' | 'reset';

export interface AliyunFakeOptions {
  accessKeyId?: string;
  accessKeySecret?: string;
  /** Where SmsReport arrays go (Herald: `${PUBLIC_URL}/webhooks/aliyun/status?token=…`). */
  reportUrl?: string;
  /** Where SmsUp arrays go (Herald: `${PUBLIC_URL}/webhooks/aliyun/inbound?token=…`). */
  upUrl?: string;
  /** Delay between acceptance and the final status (and its push). Default 10 ms. */
  reportDelayMs?: number;
  /** false: messages stay "waiting for receipt" until deliverReport(). Default true. */
  autoReport?: boolean;
  /** Approved templates, TemplateCode → text with ${variables}; any code when absent. */
  templates?: Record<string, string>;
  /** Approved signature names; any when absent. */
  signNames?: string[];
  /** Codes by PhoneNumbers value, checked before the suffix table. */
  errors?: Record<string, string>;
  now?: () => Date;
}

export interface AliyunFakeRequest {
  method: string;
  action: string | undefined;
  params: Record<string, string>;
  httpStatus: number | undefined;
  code: string | undefined;
}

export interface AliyunFakeMessage {
  bizId: string;
  phoneNumber: string;
  signName: string;
  templateCode: string;
  templateParam: Record<string, string>;
  outId: string | undefined;
  content: string;
  sendDate: Date;
  /** QuerySendDetails SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered. */
  sendStatus: 1 | 2 | 3;
  errCode: string;
  receiveDate: Date | undefined;
}

export interface AliyunFakePush {
  kind: 'SmsReport' | 'SmsUp';
  url: string;
  body: string;
  httpStatus?: number;
  responseBody?: string;
  error?: string;
}

export interface AliyunFake {
  url: string;
  accessKeyId: string;
  accessKeySecret: string;
  received: AliyunFakeRequest[];
  sent: AliyunFakeMessage[];
  pushes: AliyunFakePush[];
  setMode(mode: AliyunFakeMode): void;
  setError(phoneNumber: string, code: string | undefined): void;
  setReportUrl(url: string | undefined): void;
  setUpUrl(url: string | undefined): void;
  /** Sets the final status of an accepted message and pushes its SmsReport (when reportUrl is set). */
  deliverReport(bizId: string, outcome?: { success?: boolean; errCode?: string; errMsg?: string }): Promise<AliyunFakePush | undefined>;
  /** Pushes one SmsUp reply to upUrl. */
  sendInbound(reply: { phoneNumber: string; content: string; signName?: string; destCode?: string; sequenceId?: number }): Promise<AliyunFakePush>;
  /** The SmsReport array Aliyun would push for a message (for tests that post it themselves). */
  reportBody(bizId: string): string;
  /** Resolves when no scheduled report or push is pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const SKEW_MS = 15 * 60_000;
const COMMON = ['AccessKeyId', 'Action', 'Format', 'Signature', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version'];
const SUFFIX_CODES: Record<string, string> = {
  '0001': 'isv.MOBILE_NUMBER_ILLEGAL',
  '0002': 'isv.BUSINESS_LIMIT_CONTROL',
  '0003': 'isv.DAY_LIMIT_CONTROL',
  '0004': 'isv.AMOUNT_NOT_ENOUGH',
  '0005': 'isv.OUT_OF_SERVICE',
  '0006': 'isv.BLACK_KEY_CONTROL_LIMIT',
  '0007': 'isp.SYSTEM_ERROR',
  '0008': 'isp.RAM_PERMISSION_DENY',
  '0009': 'isv.PARAM_LENGTH_LIMIT',
};
const MESSAGES: Record<string, string> = {
  'isv.MOBILE_NUMBER_ILLEGAL': '非法手机号',
  'isv.BUSINESS_LIMIT_CONTROL': '触发号码天级流控Permits:10',
  'isv.DAY_LIMIT_CONTROL': '触发日发送限额',
  'isv.AMOUNT_NOT_ENOUGH': '账户余额不足',
  'isv.OUT_OF_SERVICE': '业务停机',
  'isv.BLACK_KEY_CONTROL_LIMIT': '黑名单管控',
  'isp.SYSTEM_ERROR': 'isp.SYSTEM_ERROR',
  'isp.RAM_PERMISSION_DENY': 'RAM权限不足',
  'isv.PARAM_LENGTH_LIMIT': '参数超出长度限制',
  'isv.SMS_TEMPLATE_ILLEGAL': '该账号下找不到对应模板',
  'isv.SMS_SIGNATURE_ILLEGAL': '该账号下找不到对应签名',
  'isv.TEMPLATE_MISSING_PARAMETERS': '模板变量缺少对应参数值',
  'isv.INVALID_JSON_PARAM': 'JSON参数不合法，只接受字符串值',
  'isv.INVALID_PARAMETERS': '参数异常',
};

/** Aliyun's percent-encoding (RFC 3986, space %20, * %2A, ~ kept). */
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function expectedSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${encode(k)}=${encode(params[k])}`)
    .join('&');
  return createHmac('sha1', `${secret}&`).update(`${method}&${encode('/')}&${encode(canonical)}`).digest('base64');
}

const beijing = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
const beijingDate = (at: Date) => beijing(at).slice(0, 10).replaceAll('-', '');

/** Aliyun accepts +86/0086/86 prefixes or none for mainland numbers, country code + number otherwise. */
function normaliseNumber(raw: string): string | undefined {
  const digits = raw.replace(/^\+|^00/, '');
  if (!/^\d{7,15}$/.test(digits)) return undefined;
  if (/^861\d{10}$/.test(digits)) return digits.slice(2);
  if (digits.startsWith('1') && digits.length !== 11) return undefined;
  return digits;
}

export async function startAliyunFake(options: AliyunFakeOptions = {}): Promise<AliyunFake> {
  const accessKeyId = options.accessKeyId ?? 'testAccessKeyId';
  const accessKeySecret = options.accessKeySecret ?? 'testAccessKeySecret';
  const now = options.now ?? (() => new Date());
  const received: AliyunFakeRequest[] = [];
  const sent: AliyunFakeMessage[] = [];
  const pushes: AliyunFakePush[] = [];
  const errors = new Map(Object.entries(options.errors ?? {}));
  const nonces = new Map<string, number>();
  const tasks = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  let reportUrl = options.reportUrl;
  let upUrl = options.upUrl;
  let mode: AliyunFakeMode = 'ok';
  let sequence = 0;

  const track = <T>(task: Promise<T>): Promise<T> => {
    tasks.add(task);
    void task.finally(() => tasks.delete(task)).catch(() => undefined);
    return task;
  };

  const push = async (kind: AliyunFakePush['kind'], url: string, payload: unknown[]): Promise<AliyunFakePush> => {
    const record: AliyunFakePush = { kind, url, body: JSON.stringify(payload) };
    pushes.push(record);
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: record.body, signal: AbortSignal.timeout(5000) });
      record.httpStatus = response.status;
      record.responseBody = await response.text();
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    }
    return record;
  };

  const reportPayload = (message: AliyunFakeMessage) => ({
    phone_number: message.phoneNumber,
    send_time: beijing(message.sendDate),
    report_time: beijing(message.receiveDate ?? now()),
    success: message.sendStatus === 3,
    err_code: message.errCode,
    err_msg: message.sendStatus === 3 ? '用户接收成功' : '用户接收失败',
    sms_size: '1',
    biz_id: message.bizId,
    out_id: message.outId ?? '',
  });

  const finish = (message: AliyunFakeMessage, outcome: { success?: boolean; errCode?: string }) => {
    const success = outcome.success ?? true;
    message.sendStatus = success ? 3 : 2;
    message.errCode = outcome.errCode ?? (success ? 'DELIVERED' : 'UNDELIV');
    message.receiveDate = now();
  };

  const deliverReport: AliyunFake['deliverReport'] = (bizId, outcome = {}) => {
    const message = sent.find((m) => m.bizId === bizId);
    if (!message) throw new Error(`aliyun fake: no message ${bizId}`);
    finish(message, outcome);
    return track(reportUrl ? push('SmsReport', reportUrl, [reportPayload(message)]) : Promise.resolve(undefined));
  };

  const scheduleReport = (message: AliyunFakeMessage) => {
    if (options.autoReport === false) return;
    const failed = message.phoneNumber.endsWith('0000');
    const timer = setTimeout(() => {
      timers.delete(timer);
      void deliverReport(message.bizId, failed ? { success: false, errCode: 'UNDELIV' } : {});
    }, options.reportDelayMs ?? 10);
    timers.add(timer);
  };

  const authenticate = (method: string, params: Record<string, string>): [number, string] | undefined => {
    for (const name of COMMON) if (!params[name]) return [400, `Missing${name}`];
    if (params.AccessKeyId !== accessKeyId) return [404, 'InvalidAccessKeyId.NotFound'];
    const at = Date.parse(params.Timestamp);
    if (Number.isNaN(at) || Math.abs(now().getTime() - at) > SKEW_MS) return [400, 'InvalidTimeStamp.Expired'];
    if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') return [400, 'InvalidSignatureMethod'];
    if (params.Signature !== expectedSignature(method, params, accessKeySecret)) return [400, 'SignatureDoesNotMatch'];
    for (const [nonce, seenAt] of nonces) if (now().getTime() - seenAt > SKEW_MS) nonces.delete(nonce);
    if (nonces.has(params.SignatureNonce)) return [400, 'SignatureNonceUsed'];
    nonces.set(params.SignatureNonce, now().getTime());
    if (params.Version !== '2017-05-25') return [400, 'InvalidVersion'];
    return undefined;
  };

  const sendSms = (params: Record<string, string>): [number, Record<string, unknown>] => {
    for (const name of ['PhoneNumbers', 'SignName', 'TemplateCode']) if (!params[name]) return [400, { Code: `Missing${name}`, Message: `${name} is mandatory for this action.` }];
    const phoneNumber = normaliseNumber(params.PhoneNumbers);
    const refuse = (code: string): [number, Record<string, unknown>] => [200, { Code: code, Message: MESSAGES[code] ?? code }];
    const forced = errors.get(params.PhoneNumbers) ?? (phoneNumber && errors.get(phoneNumber)) ?? SUFFIX_CODES[(phoneNumber ?? params.PhoneNumbers).slice(-4)];
    if (forced) return refuse(forced);
    if (!phoneNumber) return refuse('isv.MOBILE_NUMBER_ILLEGAL');
    if (options.signNames && !options.signNames.includes(params.SignName)) return refuse('isv.SMS_SIGNATURE_ILLEGAL');
    let variables: Record<string, string> = {};
    if (params.TemplateParam) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(params.TemplateParam);
      } catch {
        return refuse('isv.INVALID_JSON_PARAM');
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) return refuse('isv.INVALID_JSON_PARAM');
      variables = parsed as Record<string, string>;
    }
    let text = `${params.TemplateCode} ${params.TemplateParam ?? ''}`.trim();
    if (options.templates) {
      const template = options.templates[params.TemplateCode];
      if (template === undefined) return refuse('isv.SMS_TEMPLATE_ILLEGAL');
      const names = [...template.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
      if (names.some((name) => !(name in variables))) return refuse('isv.TEMPLATE_MISSING_PARAMETERS');
      text = template.replace(/\$\{(\w+)\}/g, (_, name: string) => variables[name]);
    }
    const message: AliyunFakeMessage = {
      bizId: `${randomInt(100_000, 1_000_000)}${String(Date.now()).slice(-9)}${randomInt(100, 1000)}^0`,
      phoneNumber,
      signName: params.SignName,
      templateCode: params.TemplateCode,
      templateParam: variables,
      outId: params.OutId || undefined,
      content: `【${params.SignName}】${text}`,
      sendDate: now(),
      sendStatus: 1,
      errCode: '',
      receiveDate: undefined,
    };
    sent.push(message);
    scheduleReport(message);
    return [200, { Code: 'OK', Message: 'OK', BizId: message.bizId }];
  };

  const querySendDetails = (params: Record<string, string>): [number, Record<string, unknown>] => {
    for (const name of ['PhoneNumber', 'SendDate', 'PageSize', 'CurrentPage']) if (!params[name]) return [400, { Code: `Missing${name}`, Message: `${name} is mandatory for this action.` }];
    const pageSize = Number(params.PageSize);
    const page = Number(params.CurrentPage);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50 || !Number.isInteger(page) || page < 1 || !/^\d{8}$/.test(params.SendDate)) {
      return [200, { Code: 'isv.INVALID_PARAMETERS', Message: MESSAGES['isv.INVALID_PARAMETERS'] }];
    }
    const phoneNumber = normaliseNumber(params.PhoneNumber);
    const matching = sent.filter(
      (m) => m.phoneNumber === phoneNumber && beijingDate(m.sendDate) === params.SendDate && (!params.BizId || m.bizId === params.BizId),
    );
    const dtos = matching.slice((page - 1) * pageSize, page * pageSize).map((m) => ({
      PhoneNum: m.phoneNumber,
      SendStatus: m.sendStatus,
      ErrCode: m.errCode,
      TemplateCode: m.templateCode,
      Content: m.content,
      SendDate: beijing(m.sendDate),
      ReceiveDate: m.receiveDate ? beijing(m.receiveDate) : '',
      OutId: m.outId ?? '',
    }));
    return [200, { Code: 'OK', Message: 'OK', TotalCount: matching.length, SmsSendDetailDTOs: { SmsSendDetailDTO: dtos } }];
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: string) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake');
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (method === 'POST') Object.assign(params, Object.fromEntries(new URLSearchParams(rawBody)));
    const record: AliyunFakeRequest = { method, action: params.Action, params, httpStatus: undefined, code: undefined };
    received.push(record);
    const answer = (status: number, body: Record<string, unknown>) => {
      record.httpStatus = status;
      record.code = typeof body.Code === 'string' ? body.Code : undefined;
      res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
      res.end(JSON.stringify({ RequestId: randomUUID().toUpperCase(), ...body }));
    };

    if (mode === 'hang') return; // never answers; close() drops the socket
    if (mode === 'reset') return req.socket.destroy();
    if (mode === '503') return answer(503, { Code: 'ServiceUnavailable', Message: 'The request has failed due to a temporary failure of the server.' });

    const refused = authenticate(method, params);
    if (refused) {
      const [status, code] = refused;
      return answer(status, { Code: code, Message: `${code} (aliyun fake)`, HostId: 'dysmsapi.aliyuncs.com' });
    }
    const [status, body] =
      params.Action === 'SendSms'
        ? sendSms(params)
        : params.Action === 'QuerySendDetails'
          ? querySendDetails(params)
          : [404, { Code: 'InvalidAction.NotFound', Message: `Specified api is not found, please check your url and method.` }];
    if (mode === 'accept-then-hang' && params.Action === 'SendSms') {
      record.httpStatus = status;
      record.code = typeof body.Code === 'string' ? body.Code : undefined;
      return; // taken, but the answer is "lost"
    }
    answer(status, body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    accessKeyId,
    accessKeySecret,
    received,
    sent,
    pushes,
    setMode: (next) => {
      mode = next;
    },
    setError: (phoneNumber, code) => {
      if (code) errors.set(phoneNumber, code);
      else errors.delete(phoneNumber);
    },
    setReportUrl: (next) => {
      reportUrl = next;
    },
    setUpUrl: (next) => {
      upUrl = next;
    },
    deliverReport,
    sendInbound: (reply) => {
      if (!upUrl) throw new Error('aliyun fake: no upUrl configured');
      const payload = {
        phone_number: reply.phoneNumber,
        send_time: beijing(now()),
        content: reply.content,
        sign_name: reply.signName ?? options.signNames?.[0] ?? '阿里云短信测试',
        dest_code: reply.destCode ?? '',
        sequence_id: reply.sequenceId ?? Date.now() * 1000 + ++sequence,
      };
      return track(push('SmsUp', upUrl, [payload]));
    },
    reportBody: (bizId) => {
      const message = sent.find((m) => m.bizId === bizId);
      if (!message) throw new Error(`aliyun fake: no message ${bizId}`);
      return JSON.stringify([reportPayload(message)]);
    },
    idle: async () => {
      while (timers.size > 0 || tasks.size > 0) {
        await Promise.allSettled([...tasks]);
        if (timers.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...tasks]);
    },
  };
}

// A fake Tencent Cloud SMS (API 2021-01-11) on 127.0.0.1, for unit, end-to-end and failover tests.
// Point Herald at it with TENCENT_ENDPOINT=<fake.url> (config section `endpoint`).
//
//   const fake = await startTencentFake({ statusCallbackUrl: `${herald}/webhooks/tencent/status?token=${token}` });
//   … send through Herald …; await fake.idle(); fake.sent / fake.calls / fake.callbacks
//   await fake.close();
//
// What it does, like Tencent:
// - verifies TC3-HMAC-SHA256 on every call (its own implementation, independent of Herald's
//   signer): malformed Authorization → AuthFailure.InvalidAuthorization, unknown SecretId →
//   AuthFailure.SecretIdNotFound, X-TC-Timestamp more than `maxSkewSeconds` (300) off →
//   AuthFailure.SignatureExpire, wrong date/service/signature → AuthFailure.SignatureFailure.
//   The canonical host is the Host header without its port (the official SDKs sign the hostname);
//   errors are HTTP 200 with {"Response":{"Error":{"Code","Message"},"RequestId"}};
// - SendSms: validates SmsSdkAppId (UnauthorizedOperation.SmsSdkAppIdVerifyFail), PhoneNumberSet,
//   TemplateId, answers SendStatusSet per number; PullSmsSendStatusByPhoneNumber: the receipts
//   it holds for a number (only messages that have a receipt, as Tencent documents);
// - after acceptance, records a receipt after `reportDelayMs` and POSTs the status array to
//   `statusCallbackUrl` when one is set (unsigned JSON, up to 3 attempts as Tencent documents);
// - `sendInbound` POSTs a reply callback to `inboundCallbackUrl`;
// - SessionContext is echoed in SendStatus; in callbacks (`ext`) and pulls only with
//   `echoSessionContext: true` (Tencent enables that per account on request).
//
// Outcomes by recipient (E.164; `failNumber()` adds or overrides):
//   …0000 → Ok, then a FAIL receipt with errmsg "002" (switched off / unreachable)
//   …0001 → InvalidParameterValue.IncorrectPhoneNumber      …0004 → FailedOperation.InsufficientBalanceInSmsPackage
//   …0002 → FailedOperation.PhoneNumberInBlacklist          …0005 → FailedOperation.ContainSensitiveWord
//   …0003 → LimitExceeded.PhoneNumberThirtySecondLimit      …0006 → FailedOperation.TemplateIncorrectOrUnapproved
//   not +<digits> → InvalidParameterValue.IncorrectPhoneNumber
//   other → Ok, then a SUCCESS receipt with errmsg "DELIVRD"
// Modes (`setMode`): 'ok'; '503' (HTTP 503, text body); 'hang' (reads the request, never answers);
// 'reset' (reads the request, then destroys the connection); 'malformed' (HTTP 200, not JSON).
// `setApiError({ code })` answers every call with that top-level error (e.g. RequestLimitExceeded).

import { createHash, createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type TencentFakeMode = 'ok' | '503' | 'hang' | 'reset' | 'malformed';

export interface TencentFakeOptions {
  secretId?: string;
  secretKey?: string;
  smsSdkAppId?: string;
  /** Full status callback URL, token included; reports are only recorded while it is unset. */
  statusCallbackUrl?: string;
  inboundCallbackUrl?: string;
  /** Record (and push) a receipt after each acceptance. Default true. */
  autoReport?: boolean;
  /** Delay between acceptance and its receipt. Default 10. */
  reportDelayMs?: number;
  /** Accepted X-TC-Timestamp skew, either way. Default 300 (Tencent: five minutes). */
  maxSkewSeconds?: number;
  /** Echo SessionContext as `ext` in callbacks and in pulls. Default false (Tencent's default). */
  echoSessionContext?: boolean;
  /** Per-number error codes on top of the built-in table. */
  numberErrors?: Record<string, string>;
  /** Attempts per callback (Tencent: one plus two retries). Default 3; backoff 20 ms. */
  callbackAttempts?: number;
  callbackBackoffMs?: number;
  now?: () => Date;
}

/** Every API call the fake received, verified or not. */
export interface TencentFakeCall {
  action: string | undefined;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  /** The error code the fake answered with (authentication or validation), if any. */
  errorCode?: string;
}

export interface TencentFakeReceipt {
  status: 'SUCCESS' | 'FAIL';
  errmsg: string;
  description: string;
  at: Date;
}

export interface TencentFakeMessage {
  serialNo: string;
  phoneNumber: string;
  smsSdkAppId: string;
  signName: string | undefined;
  templateId: string;
  templateParams: string[];
  sessionContext: string | undefined;
  acceptedAt: Date;
  receipt?: TencentFakeReceipt;
}

export interface TencentFakeCallback {
  kind: 'status' | 'inbound';
  url: string;
  body: string;
  /** HTTP status of the last attempt; undefined when no answer came. */
  status?: number;
  attempts: number;
  error?: string;
}

export interface TencentFakeInbound {
  mobile: string;
  text: string;
  /** Default "86". */
  nationcode?: string;
  /** The signature the user replied to. Default "Herald". */
  sign?: string;
  extend?: string;
  /** Unix seconds; default now. */
  time?: number;
}

export interface TencentFake {
  /** Base URL, `http://127.0.0.1:<port>`: Herald's TENCENT_ENDPOINT. */
  url: string;
  secretId: string;
  secretKey: string;
  smsSdkAppId: string;
  calls: TencentFakeCall[];
  sent: TencentFakeMessage[];
  callbacks: TencentFakeCallback[];
  setMode(mode: TencentFakeMode): void;
  setApiError(error: { code: string; message?: string } | null): void;
  failNumber(phoneNumber: string, code: string): void;
  setCallbackUrls(urls: { status?: string; inbound?: string }): void;
  /** The status callback item Tencent would push for a message (reporting it first if needed). */
  statusItem(serialNo: string, receipt?: Partial<Omit<TencentFakeReceipt, 'at'>>): Record<string, string>;
  /** Records a receipt for the message and pushes it to the status callback URL now. */
  deliverReport(serialNo: string, receipt?: Partial<Omit<TencentFakeReceipt, 'at'>>): Promise<TencentFakeCallback>;
  /** POSTs any status array (or other body) to the status callback URL, unsigned as Tencent does. */
  pushStatus(items: unknown): Promise<TencentFakeCallback>;
  sendInbound(reply: TencentFakeInbound): Promise<TencentFakeCallback>;
  /** Resolves when no receipt or callback is pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const builtInNumberErrors: Record<string, string> = {
  '0001': 'InvalidParameterValue.IncorrectPhoneNumber',
  '0002': 'FailedOperation.PhoneNumberInBlacklist',
  '0003': 'LimitExceeded.PhoneNumberThirtySecondLimit',
  '0004': 'FailedOperation.InsufficientBalanceInSmsPackage',
  '0005': 'FailedOperation.ContainSensitiveWord',
  '0006': 'FailedOperation.TemplateIncorrectOrUnapproved',
};

const errorMessages: Record<string, string> = {
  'AuthFailure.SignatureFailure': 'The provided credentials could not be validated. Please check your signature is correct.',
  'AuthFailure.SignatureExpire': 'Signature expired. Timestamp and server time cannot differ by more than five minutes.',
  'AuthFailure.SecretIdNotFound': 'The SecretId is not found, please ensure that your SecretId is correct.',
  'AuthFailure.InvalidAuthorization': 'Authorization in the request header is invalid.',
};

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** "2015-10-17 08:03:04" in China Standard Time, as Tencent writes user_receive_time. */
function beijingTime(date: Date): string {
  return new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function splitNumber(phoneNumber: string): { nationcode: string; mobile: string } {
  // Enough for tests: mainland China and NANP, otherwise a two-digit country code.
  const digits = phoneNumber.replace(/^\+/, '');
  const length = digits.startsWith('86') ? 2 : digits.startsWith('1') ? 1 : 2;
  return { nationcode: digits.slice(0, length), mobile: digits.slice(length) };
}

export async function startTencentFake(options: TencentFakeOptions = {}): Promise<TencentFake> {
  const secretId = options.secretId ?? 'AKIDfakeHeraldTencent0000000000000000';
  const secretKey = options.secretKey ?? 'fakeHeraldTencentSecretKey000000';
  const smsSdkAppId = options.smsSdkAppId ?? '1400006666';
  const now = options.now ?? (() => new Date());
  const maxSkewSeconds = options.maxSkewSeconds ?? 300;
  const numberErrors: Record<string, string> = { ...options.numberErrors };
  let statusCallbackUrl = options.statusCallbackUrl;
  let inboundCallbackUrl = options.inboundCallbackUrl;
  let mode: TencentFakeMode = 'ok';
  let apiError: { code: string; message?: string } | null = null;
  let closed = false;

  const calls: TencentFakeCall[] = [];
  const sent: TencentFakeMessage[] = [];
  const callbacks: TencentFakeCallback[] = [];
  const tasks = new Set<Promise<unknown>>();
  const timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  const sockets = new Set<Socket>();

  const track = <T>(task: Promise<T>): Promise<T> => {
    tasks.add(task);
    void task.finally(() => tasks.delete(task)).catch(() => undefined);
    return task;
  };

  const answer = (res: ServerResponse, response: Record<string, unknown>) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Response: { ...response, RequestId: randomUUID() } }));
  };
  const error = (res: ServerResponse, call: TencentFakeCall, code: string, message?: string) => {
    call.errorCode = code;
    answer(res, { Error: { Code: code, Message: message ?? errorMessages[code] ?? code } });
  };

  /** The error code Tencent would answer for this request's authentication, or undefined. */
  function authenticate(headers: Record<string, string | undefined>, rawBody: Buffer): string | undefined {
    const match = /^TC3-HMAC-SHA256 Credential=([^/\s]+)\/(\d{4}-\d\d-\d\d)\/([^/\s]+)\/tc3_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      headers.authorization ?? '',
    );
    if (!match) return 'AuthFailure.InvalidAuthorization';
    const [, id, date, service, signedHeaders, signature] = match;
    const timestamp = Number(headers['x-tc-timestamp']);
    if (!Number.isInteger(timestamp)) return 'AuthFailure.InvalidAuthorization';
    if (Math.abs(now().getTime() / 1000 - timestamp) > maxSkewSeconds) return 'AuthFailure.SignatureExpire';
    if (id !== secretId) return 'AuthFailure.SecretIdNotFound';
    const names = signedHeaders.split(';');
    if (!names.includes('content-type') || !names.includes('host')) return 'AuthFailure.SignatureFailure';
    if (date !== new Date(timestamp * 1000).toISOString().slice(0, 10) || service !== 'sms') return 'AuthFailure.SignatureFailure';
    const canonicalHeaders = names
      .map((name) => {
        const value = (headers[name] ?? '').trim();
        if (name === 'host') return `host:${value.replace(/:\d+$/, '').toLowerCase()}\n`;
        return `${name}:${name === 'content-type' ? value : value.toLowerCase()}\n`;
      })
      .join('');
    const canonicalRequest = `POST\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${sha256Hex(rawBody)}`;
    const stringToSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/sms/tc3_request\n${sha256Hex(canonicalRequest)}`;
    const key = hmac(hmac(hmac(`TC3${secretKey}`, date), 'sms'), 'tc3_request');
    const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
    return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? undefined : 'AuthFailure.SignatureFailure';
  }

  function numberError(phoneNumber: string): string | undefined {
    if (!/^\+\d{6,15}$/.test(phoneNumber)) return 'InvalidParameterValue.IncorrectPhoneNumber';
    return numberErrors[phoneNumber] ?? builtInNumberErrors[phoneNumber.slice(-4)];
  }

  function record(message: TencentFakeMessage, receipt?: Partial<Omit<TencentFakeReceipt, 'at'>>): TencentFakeReceipt {
    const fails = message.phoneNumber.endsWith('0000');
    const status = receipt?.status ?? (fails ? 'FAIL' : 'SUCCESS');
    message.receipt = {
      status,
      errmsg: receipt?.errmsg ?? (status === 'SUCCESS' ? 'DELIVRD' : '002'),
      description: receipt?.description ?? (status === 'SUCCESS' ? '用户短信送达成功' : '关机/停机/无法接通手机/不在服务区'),
      at: now(),
    };
    return message.receipt;
  }

  function statusItemOf(message: TencentFakeMessage, receipt: TencentFakeReceipt): Record<string, string> {
    return {
      user_receive_time: beijingTime(receipt.at),
      ...splitNumber(message.phoneNumber),
      report_status: receipt.status,
      errmsg: receipt.errmsg,
      description: receipt.description,
      sid: message.serialNo,
      ...(options.echoSessionContext && message.sessionContext ? { ext: message.sessionContext } : {}),
    };
  }

  async function post(kind: 'status' | 'inbound', url: string | undefined, body: string): Promise<TencentFakeCallback> {
    const callback: TencentFakeCallback = { kind, url: url ?? '', body, attempts: 0 };
    callbacks.push(callback);
    if (!url) {
      callback.error = `no ${kind} callback URL configured`;
      return callback;
    }
    const attempts = options.callbackAttempts ?? 3;
    for (let attempt = 1; attempt <= attempts && !closed; attempt++) {
      callback.attempts = attempt;
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer().catch(() => undefined);
        callback.status = response.status;
        callback.error = undefined;
        if (response.ok) break;
      } catch (cause) {
        callback.status = undefined;
        callback.error = cause instanceof Error ? cause.message : String(cause);
      }
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, (options.callbackBackoffMs ?? 20) * attempt));
    }
    return callback;
  }

  function scheduleReceipt(message: TencentFakeMessage): void {
    if (options.autoReport === false) return;
    // The pending receipt is work idle() waits for; close() settles it.
    void track(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!closed) {
            const receipt = record(message);
            if (statusCallbackUrl) void track(post('status', statusCallbackUrl, JSON.stringify([statusItemOf(message, receipt)])));
          }
          resolve();
        }, options.reportDelayMs ?? 10);
        timers.set(timer, resolve);
      }),
    );
  }

  function sendSms(res: ServerResponse, call: TencentFakeCall, body: Record<string, unknown>): void {
    if (body.SmsSdkAppId !== smsSdkAppId) return error(res, call, 'UnauthorizedOperation.SmsSdkAppIdVerifyFail', 'SmsSdkAppId verify failed.');
    const numbers = body.PhoneNumberSet;
    if (!Array.isArray(numbers) || numbers.length === 0) return error(res, call, 'MissingParameter.EmptyPhoneNumberSet', 'the number set is empty.');
    if (numbers.length > 200) return error(res, call, 'LimitExceeded.PhoneNumberCountLimit', 'more than 200 numbers.');
    if (typeof body.TemplateId !== 'string' || body.TemplateId === '') return error(res, call, 'MissingParameter', 'The request is missing a required parameter `TemplateId`.');
    const domestic = numbers.map((n) => String(n).startsWith('+86'));
    if (domestic.some((d) => d !== domestic[0])) return error(res, call, 'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber', 'mixed domestic and international numbers.');
    const params = Array.isArray(body.TemplateParamSet) ? body.TemplateParamSet.map(String) : [];
    const sessionContext = typeof body.SessionContext === 'string' ? body.SessionContext : undefined;
    const SendStatusSet = numbers.map((value) => {
      const phoneNumber = String(value);
      const code = numberError(phoneNumber);
      const isoCode = phoneNumber.startsWith('+86') ? 'CN' : 'DEF';
      if (code) return { SerialNo: '', PhoneNumber: phoneNumber, Fee: 0, SessionContext: sessionContext ?? '', Code: code, Message: code, IsoCode: isoCode };
      const message: TencentFakeMessage = {
        serialNo: `2640:${randomInt(1e9, 1e10 - 1)}${randomInt(1e9, 1e10 - 1)}`,
        phoneNumber,
        smsSdkAppId,
        signName: typeof body.SignName === 'string' ? body.SignName : undefined,
        templateId: body.TemplateId as string,
        templateParams: params,
        sessionContext,
        acceptedAt: now(),
      };
      sent.push(message);
      scheduleReceipt(message);
      return { SerialNo: message.serialNo, PhoneNumber: phoneNumber, Fee: 1, SessionContext: sessionContext ?? '', Code: 'Ok', Message: 'send success', IsoCode: isoCode };
    });
    answer(res, { SendStatusSet });
  }

  function pullStatus(res: ServerResponse, call: TencentFakeCall, body: Record<string, unknown>): void {
    if (body.SmsSdkAppId !== smsSdkAppId) return error(res, call, 'UnauthorizedOperation.SmsSdkAppIdVerifyFail', 'SmsSdkAppId verify failed.');
    const nowSeconds = now().getTime() / 1000;
    const begin = body.BeginTime;
    const end = body.EndTime ?? nowSeconds;
    if (typeof begin !== 'number' || begin < nowSeconds - 7 * 24 * 3600) return error(res, call, 'InvalidParameterValue.BeginTimeVerifyFail', 'BeginTime verify failed.');
    if (typeof end !== 'number' || end < begin) return error(res, call, 'InvalidParameterValue.EndTimeVerifyFail', 'EndTime verify failed.');
    const limit = body.Limit;
    if (typeof limit !== 'number' || limit < 1 || limit > 100) return error(res, call, 'InvalidParameterValue.LimitVerifyFail', 'Limit verify failed.');
    if (typeof body.PhoneNumber !== 'string') return error(res, call, 'MissingParameter', 'The request is missing a required parameter `PhoneNumber`.');
    const rows = sent
      .filter((m) => m.phoneNumber === body.PhoneNumber && m.receipt && m.acceptedAt.getTime() / 1000 >= begin - 1 && m.acceptedAt.getTime() / 1000 <= end + 1)
      .slice(0, limit)
      .map((m) => ({
        UserReceiveTime: Math.floor(m.receipt!.at.getTime() / 1000),
        ...(({ nationcode, mobile }) => ({ CountryCode: nationcode, SubscriberNumber: mobile }))(splitNumber(m.phoneNumber)),
        PhoneNumber: m.phoneNumber,
        SerialNo: m.serialNo,
        ReportStatus: m.receipt!.status,
        Description: m.receipt!.description,
        SessionContext: options.echoSessionContext ? (m.sessionContext ?? '') : '',
      }));
    answer(res, { PullSmsSendStatusSet: rows });
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      let body: unknown;
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        body = undefined;
      }
      const call: TencentFakeCall = { action: headers['x-tc-action'], headers, rawBody, body };
      calls.push(call);

      switch (mode) {
        case '503':
          res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
          return;
        case 'hang':
          return; // the socket stays open until the client gives up or the fake closes
        case 'reset':
          req.socket.destroy();
          return;
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"Response": {"SendStatusSet": [');
          return;
        case 'ok':
          break;
      }
      const authError = authenticate(headers, rawBody);
      if (authError) return error(res, call, authError);
      if (headers['x-tc-version'] !== '2021-01-11') return error(res, call, 'NoSuchVersion', 'The requested version does not exist.');
      if (apiError) return error(res, call, apiError.code, apiError.message);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return error(res, call, 'FailedOperation.JsonParseFail', 'the body is not a JSON object.');
      switch (call.action) {
        case 'SendSms':
          return sendSms(res, call, body as Record<string, unknown>);
        case 'PullSmsSendStatusByPhoneNumber':
          return pullStatus(res, call, body as Record<string, unknown>);
        default:
          return error(res, call, 'InvalidAction', `The action ${call.action ?? ''} does not exist.`);
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const find = (serialNo: string) => {
    const message = sent.find((m) => m.serialNo === serialNo);
    if (!message) throw new Error(`the Tencent fake accepted no message ${serialNo}`);
    return message;
  };

  return {
    url,
    secretId,
    secretKey,
    smsSdkAppId,
    calls,
    sent,
    callbacks,
    setMode: (next) => {
      mode = next;
    },
    setApiError: (next) => {
      apiError = next;
    },
    failNumber: (phoneNumber, code) => {
      numberErrors[phoneNumber] = code;
    },
    setCallbackUrls: (urls) => {
      if (urls.status !== undefined) statusCallbackUrl = urls.status;
      if (urls.inbound !== undefined) inboundCallbackUrl = urls.inbound;
    },
    statusItem: (serialNo, receipt) => {
      const message = find(serialNo);
      return statusItemOf(message, receipt || !message.receipt ? record(message, receipt) : message.receipt);
    },
    deliverReport: (serialNo, receipt) => {
      const message = find(serialNo);
      return track(post('status', statusCallbackUrl, JSON.stringify([statusItemOf(message, record(message, receipt))])));
    },
    pushStatus: (items) => track(post('status', statusCallbackUrl, typeof items === 'string' ? items : JSON.stringify(items))),
    sendInbound: (reply) =>
      track(
        post(
          'inbound',
          inboundCallbackUrl,
          JSON.stringify({
            extend: reply.extend ?? '',
            mobile: reply.mobile,
            nationcode: reply.nationcode ?? '86',
            sign: reply.sign ?? 'Herald',
            text: reply.text,
            time: reply.time ?? Math.floor(now().getTime() / 1000),
          }),
        ),
      ),
    idle: async () => {
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
    close: async () => {
      closed = true;
      for (const [timer, settle] of timers) {
        clearTimeout(timer);
        settle();
      }
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((cause) => (cause ? reject(cause) : resolve())));
    },
  };
}

// A fake of Twilio's Programmable Messaging REST API (2010-04-01) on 127.0.0.1, port 0, for unit,
// end-to-end and failover tests. Point Herald at it with TWILIO_API_BASE_URL=<fake.url> and the
// fake's accountSid/authToken as TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN.
//
//   const fake = await startTwilioFake({ reportDelayMs: 5 });
//   fake.url, fake.accountSid, fake.authToken
//   fake.requests      every API request: { method, path, query, form, authorized }
//   fake.messages      every created message (status, error code, dates, StatusCallback, …)
//   fake.callbacks     every callback it POSTed: { url, params, signature, status } (status 0 = unreachable)
//   fake.setMode('ok' | 'unavailable' | 'hang' | 'accept-and-hang' | 'reset')
//   await fake.deliverReport(sid, 'delivered' | 'undelivered' | …, errorCode?)   signed StatusCallback
//   await fake.sendInbound(url, { From, To, Body })                              signed incoming message
//   fake.setMessageStatus(sid, status, errorCode?)   change what fetch/list say, without a callback
//   fake.setPricing({ price, delayMs })   how messages reaching a final status from now on are rated
//   fake.setPrice(sid, price)             set one message's price (null: not rated)
//   fake.failFetches(n)                   the next n GETs of one message answer 503 20503
//   await fake.idle(); await fake.close();
//
// What it checks, as Twilio does: HTTP Basic auth AccountSid:AuthToken (and that the path's
// AccountSid is the user), else 401 with code 20003; To, Body and From/MessagingServiceSid
// (21604, 21602, 21603), E.164 To (21211), Body ≤ 1600 characters (21617).
//
// Outcomes by the last four digits of To:
//   submission   9911 → 400 21211 invalid To        9910 → 400 21610 unsubscribed (STOP)
//                9914 → 400 21614 not mobile        9908 → 400 21408 region not enabled
//                9912 → 400 21612 no route          9906 → 400 21606 From not allowed
//                9929 → 429 20429 too many requests 9950 → 500 20500 internal error
//   delivery     3003 → undelivered 30003           3005 → undelivered 30005
//                3006 → undelivered 30006           3007 → failed 30007 (filtered)
//                3008 → undelivered 30008           other → delivered
// After acceptance (status `queued`, or `accepted` with a MessagingServiceSid, which also gets a
// `queued` callback) it POSTs `sent`, then the final status, to the message's StatusCallback
// (or `statusCallbackUrl`), each reportDelayMs apart, form-encoded and signed with
// X-Twilio-Signature by the official `twilio` package (so Herald's verifier is checked against
// Twilio's own signer). Modes: `unavailable` answers 503; `hang` never answers and creates
// nothing; `accept-and-hang` creates the message (reports follow) but never answers, as a lost
// answer; `reset` drops the connection after reading the request, creating nothing.
//
// Prices, as Twilio rates messages: `price` is null until the message is rated, then a negative
// decimal string in `price_unit` USD. A message is rated `pricing.delayMs` after it reaches a
// final status (default 0: at once; null: never), at `pricing.price` (default "-0.00790").
// Status callbacks carry no price, as Twilio's do not.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export type TwilioFakeMode = 'ok' | 'unavailable' | 'hang' | 'accept-and-hang' | 'reset';

export interface TwilioFakeOptions {
  accountSid?: string;
  authToken?: string;
  /** Delay before each automatic callback. Default 10. */
  reportDelayMs?: number;
  /** Send `sent` and final callbacks by themselves. Default true. */
  autoReports?: boolean;
  /** Where callbacks go for a message created without StatusCallback. */
  statusCallbackUrl?: string;
  /** Adds `Retry-After` (seconds) to 429 answers; Twilio does not promise one. */
  retryAfterSeconds?: number;
  /** How messages are rated once final (see the header). */
  pricing?: TwilioFakePricing;
}

export interface TwilioFakePricing {
  /** The `price` a message is rated at (any text, for tests of odd answers). Default "-0.00790". */
  price?: string;
  /** Delay after the final status before the message has its price; null: never rated. Default 0. */
  delayMs?: number | null;
}

export interface TwilioFakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  authorized: boolean;
}

export interface TwilioFakeMessage {
  sid: string;
  to: string;
  from: string | null;
  body: string;
  messagingServiceSid: string | null;
  statusCallback: string | null;
  status: string;
  errorCode: number | null;
  dateCreated: Date;
  dateSent: Date | null;
  dateUpdated: Date;
  /** Null until rated. */
  price: string | null;
}

export interface TwilioFakeCallback {
  url: string;
  params: Record<string, string>;
  signature: string;
  /** Herald's HTTP status; 0 when it could not be reached. */
  status: number;
}

export interface TwilioFake {
  url: string;
  accountSid: string;
  authToken: string;
  requests: TwilioFakeRequest[];
  messages: TwilioFakeMessage[];
  callbacks: TwilioFakeCallback[];
  setMode(mode: TwilioFakeMode): void;
  setMessageStatus(sid: string, status: string, errorCode?: number): void;
  setPricing(pricing: TwilioFakePricing): void;
  setPrice(sid: string, price: string | null): void;
  /** The next `count` GETs of a single message answer 503 (a Twilio outage for reads). */
  failFetches(count: number): void;
  /** Sets the status and POSTs the signed StatusCallback; resolves with Herald's HTTP status. */
  deliverReport(sid: string, status: string, errorCode?: number): Promise<number>;
  /** POSTs a signed incoming message to `url` (Herald's /webhooks/twilio/inbound). */
  sendInbound(url: string, params: { From: string; To: string; Body: string } & Record<string, string>): Promise<{ status: number; contentType: string | null; body: string }>;
  /** Resolves when no automatic callback is pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const submissionErrors: Record<string, { http: number; code: number; message: string }> = {
  '9911': { http: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  '9910': { http: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  '9914': { http: 400, code: 21614, message: "'To' number is not a valid mobile number" },
  '9908': { http: 400, code: 21408, message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number" },
  '9912': { http: 400, code: 21612, message: "Message cannot be sent with the current combination of 'To' and/or 'From' parameters" },
  '9906': { http: 400, code: 21606, message: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account" },
  '9929': { http: 429, code: 20429, message: 'Too Many Requests' },
  '9950': { http: 500, code: 20500, message: 'Internal Server Error' },
};

const deliveryOutcomes: Record<string, { status: string; errorCode: number }> = {
  '3003': { status: 'undelivered', errorCode: 30003 },
  '3005': { status: 'undelivered', errorCode: 30005 },
  '3006': { status: 'undelivered', errorCode: 30006 },
  '3007': { status: 'failed', errorCode: 30007 },
  '3008': { status: 'undelivered', errorCode: 30008 },
};

const API = '/2010-04-01';
const FINAL_WORDS = new Set(['delivered', 'undelivered', 'failed', 'read', 'partially_delivered']);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** Twilio's dates are RFC 2822 with a numeric zone: `Thu, 24 Aug 2023 05:01:45 +0000`. */
const rfc2822 = (date: Date | null) => (date ? date.toUTCString().replace('GMT', '+0000') : null);

export async function startTwilioFake(options: TwilioFakeOptions = {}): Promise<TwilioFake> {
  const accountSid = options.accountSid ?? `AC${hex(16)}`;
  const authToken = options.authToken ?? hex(16);
  const reportDelayMs = options.reportDelayMs ?? 10;
  const requests: TwilioFakeRequest[] = [];
  const messages: TwilioFakeMessage[] = [];
  const callbacks: TwilioFakeCallback[] = [];
  const tasks = new Set<Promise<unknown>>();
  const waits = new Set<{ timer: ReturnType<typeof setTimeout>; cancel: () => void }>();
  const abort = new AbortController();
  let mode: TwilioFakeMode = 'ok';
  let pricing: Required<TwilioFakePricing> = { price: '-0.00790', delayMs: 0, ...options.pricing };
  let fetchFailures = 0;
  let closed = false;
  let baseUrl = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const twilioError = (res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) =>
    json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);

  const resource = (m: TwilioFakeMessage) => ({
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: rfc2822(m.dateSent),
    date_updated: rfc2822(m.dateUpdated),
    direction: 'outbound-api',
    error_code: m.errorCode,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: '0',
    num_segments: '1',
    price: m.price,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `${API}/Accounts/${accountSid}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `${API}/Accounts/${accountSid}/Messages/${m.sid}.json`,
  });

  const setStatus = (m: TwilioFakeMessage, status: string, errorCode?: number) => {
    m.status = status;
    m.errorCode = errorCode ?? null;
    m.dateUpdated = new Date();
    if (status === 'sent' && !m.dateSent) m.dateSent = m.dateUpdated;
    if (FINAL_WORDS.has(status) && m.price === null) rate(m);
  };

  const rate = (m: TwilioFakeMessage) => {
    const { price, delayMs } = pricing;
    if (delayMs === null) return;
    if (delayMs === 0) m.price = price;
    else void track(sleep(delayMs).then((open) => void (open && m.price === null && (m.price = price))));
  };

  const signAndPost = async (url: string, params: Record<string, string>) => {
    const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
    let status = 0;
    let contentType: string | null = null;
    let body = '';
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature,
          'i-twilio-idempotency-token': hex(16),
          'user-agent': 'TwilioProxy/1.1',
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(5000)]),
      });
      status = response.status;
      contentType = response.headers.get('content-type');
      body = await response.text();
    } catch {
      // Twilio drops a callback it cannot deliver; status 0 records that.
    }
    callbacks.push({ url, params, signature, status });
    return { status, contentType, body };
  };

  const postReport = async (m: TwilioFakeMessage) => {
    const url = m.statusCallback ?? options.statusCallbackUrl;
    if (!url) return 0;
    const params: Record<string, string> = {
      AccountSid: accountSid,
      ApiVersion: '2010-04-01',
      From: m.from ?? '',
      MessageSid: m.sid,
      MessageStatus: m.status,
      SmsSid: m.sid,
      SmsStatus: m.status,
      To: m.to,
    };
    if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
    if (m.errorCode !== null) params.ErrorCode = String(m.errorCode);
    return (await signAndPost(url, params)).status;
  };

  const track = <T>(task: Promise<T>) => {
    tasks.add(task);
    void task.finally(() => tasks.delete(task));
    return task;
  };
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (closed) return resolve(false);
      const wait = {
        timer: setTimeout(() => {
          waits.delete(wait);
          resolve(!closed);
        }, ms),
        cancel: () => resolve(false),
      };
      waits.add(wait);
    });

  const progress = async (m: TwilioFakeMessage) => {
    const outcome = deliveryOutcomes[m.to.slice(-4)] ?? { status: 'delivered', errorCode: undefined };
    const steps: Array<[string, number | undefined]> = [
      ...(m.messagingServiceSid ? ([['queued', undefined]] as Array<[string, number | undefined]>) : []),
      ['sent', undefined],
      [outcome.status, outcome.errorCode],
    ];
    for (const [status, errorCode] of steps) {
      if (!(await sleep(reportDelayMs))) return;
      setStatus(m, status, errorCode);
      await postReport(m);
    }
  };

  const create = (form: Record<string, string>, res: ServerResponse, answer: boolean) => {
    const { To: to, Body: body, From: from, MessagingServiceSid: service, StatusCallback: statusCallback } = form;
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    if (body === undefined || body === '') return twilioError(res, 400, 21602, 'Message body is required.');
    if (!from && !service) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
    if (!/^\+[1-9]\d{1,14}$/.test(to)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if ([...body].length > 1600) return twilioError(res, 400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    const failure = submissionErrors[to.slice(-4)];
    if (failure) {
      const retryAfter = failure.http === 429 && options.retryAfterSeconds !== undefined ? { 'retry-after': String(options.retryAfterSeconds) } : undefined;
      return twilioError(res, failure.http, failure.code, failure.message, retryAfter);
    }
    const now = new Date();
    const message: TwilioFakeMessage = {
      sid: `SM${hex(16)}`,
      to,
      from: from ?? null,
      body,
      messagingServiceSid: service ?? null,
      statusCallback: statusCallback ?? null,
      status: service ? 'accepted' : 'queued',
      errorCode: null,
      dateCreated: now,
      dateSent: null,
      dateUpdated: now,
      price: null,
    };
    messages.push(message);
    if (options.autoReports ?? true) void track(progress(message));
    if (answer) json(res, 201, resource(message));
  };

  const list = (query: Record<string, string>, path: string, res: ServerResponse) => {
    const dayStart = (v: string) => new Date(/^\d{4}-\d\d-\d\d$/.test(v) ? `${v}T00:00:00Z` : v).getTime();
    const dated = ['DateSent', 'DateSent>', 'DateSent<'].some((k) => query[k] !== undefined);
    const found = messages
      .filter((m) => !query.To || m.to === query.To)
      .filter((m) => !query.From || m.from === query.From)
      // A DateSent filter reads date_sent, which a message still queued does not have.
      .filter((m) => !dated || m.dateSent !== null)
      .filter((m) => query['DateSent>'] === undefined || m.dateSent!.getTime() >= dayStart(query['DateSent>']))
      .filter((m) => query['DateSent<'] === undefined || m.dateSent!.getTime() < dayStart(query['DateSent<']) + 86_400_000)
      .filter((m) => query.DateSent === undefined || m.dateSent!.toISOString().slice(0, 10) === query.DateSent)
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime());
    const pageSize = Math.min(1000, Math.max(1, Number(query.PageSize ?? 50) || 50));
    const page = Math.max(0, Number(query.Page ?? 0) || 0);
    const slice = found.slice(page * pageSize, (page + 1) * pageSize);
    const pageUri = (n: number) => `${path}?${new URLSearchParams({ ...query, PageSize: String(pageSize), Page: String(n), PageToken: `PA${n}` })}`;
    json(res, 200, {
      messages: slice.map(resource),
      first_page_uri: pageUri(0),
      next_page_uri: (page + 1) * pageSize < found.length ? pageUri(page + 1) : null,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      page,
      page_size: pageSize,
      start: page * pageSize,
      end: page * pageSize + Math.max(0, slice.length - 1),
      uri: pageUri(page),
    });
  };

  const authorized = (req: IncomingMessage, pathSid: string) => {
    const match = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 && decoded.slice(0, colon) === accountSid && decoded.slice(colon + 1) === authToken && pathSid === accountSid;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: Buffer) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const query = Object.fromEntries(url.searchParams);
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const form = isForm ? Object.fromEntries(new URLSearchParams(rawBody.toString('utf8'))) : {};
    const route = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/([^/]+))?\.json$/.exec(url.pathname);
    const ok = route ? authorized(req, decodeURIComponent(route[1])) : false;
    requests.push({ method: req.method ?? '', path: url.pathname, query, form, authorized: ok });

    if (mode === 'hang') return; // never answered; close() drops the socket
    if (mode === 'reset') return req.socket.destroy();
    if (mode === 'unavailable') return twilioError(res, 503, 20503, 'Service Unavailable');
    if (!route) return twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
    if (!ok) {
      res.setHeader('www-authenticate', 'Basic realm="Twilio API"');
      return json(res, 401, { code: 20003, detail: 'Your AccountSid or AuthToken was incorrect.', message: 'Authentication Error - invalid username', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    }
    const [, , messageSid] = route;
    if (req.method === 'POST' && !messageSid) return create(form, res, mode !== 'accept-and-hang');
    if (req.method === 'GET' && !messageSid) return list(query, url.pathname, res);
    if (req.method === 'GET' && messageSid) {
      if (fetchFailures > 0) {
        fetchFailures--;
        return twilioError(res, 503, 20503, 'Service Unavailable');
      }
      const message = messages.find((m) => m.sid === decodeURIComponent(messageSid));
      return message ? json(res, 200, resource(message)) : twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
    }
    return twilioError(res, 405, 20004, 'Method not allowed');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const find = (sid: string) => {
    const message = messages.find((m) => m.sid === sid);
    if (!message) throw new Error(`twilio fake: no message ${sid}`);
    return message;
  };

  return {
    url: baseUrl,
    accountSid,
    authToken,
    requests,
    messages,
    callbacks,
    setMode: (next) => {
      mode = next;
    },
    setMessageStatus: (sid, status, errorCode) => setStatus(find(sid), status, errorCode),
    setPricing: (next) => {
      pricing = { ...pricing, ...next };
    },
    setPrice: (sid, price) => {
      find(sid).price = price;
    },
    failFetches: (count) => {
      fetchFailures = count;
    },
    deliverReport: (sid, status, errorCode) => {
      const message = find(sid);
      setStatus(message, status, errorCode);
      return track(postReport(message));
    },
    sendInbound: (url, params) => {
      const sid = `SM${hex(16)}`;
      return track(
        signAndPost(url, {
          AccountSid: accountSid,
          ApiVersion: '2010-04-01',
          MessageSid: sid,
          NumMedia: '0',
          NumSegments: '1',
          SmsMessageSid: sid,
          SmsSid: sid,
          SmsStatus: 'received',
          ...params,
        }),
      );
    },
    idle: async () => {
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
    close: async () => {
      closed = true;
      for (const wait of waits) {
        clearTimeout(wait.timer);
        wait.cancel();
      }
      waits.clear();
      abort.abort();
      await Promise.allSettled([...tasks]);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

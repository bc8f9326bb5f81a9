// Forged, tampered, replayed and oversized provider callbacks about real messages, one builder
// per route. Each attack says what a correct Herald answers (401 for authenticity, 413 for
// size); the scenario counts how many were answered so and whether any row moved.
import { randomBytes } from 'node:crypto';
import { createSignatureHeaders } from '../../src/providers/simulator/simulator-signature.js';
import { computeTwilioSignature } from '../../src/providers/twilio/twilio-signature.js';

export type AttackKind = 'forged' | 'tampered' | 'replayed' | 'oversized';

export interface Attack {
  kind: AttackKind;
  provider: string;
  name: string;
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** The HTTP status a correct Herald answers. */
  expect: 401 | 413;
}

export interface Target {
  id: string;
  to: string;
  providerMessageId: string;
}

export interface Secrets {
  simulator: string;
  twilioSid: string;
  twilioToken: string;
  aliyunToken: string;
  tencentToken: string;
}

const OVERSIZED_BYTES = 5 * 1024 * 1024;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const pad = (prefix: string, suffix: string) => Buffer.from(prefix + 'x'.repeat(OVERSIZED_BYTES) + suffix);

function simulatorAttacks(s: Secrets, t: Target, other: Target, now: Date): Attack[] {
  const path = '/webhooks/simulator/status';
  const report = (target: Target, status: string) => json({ reference: target.id, providerMessageId: target.providerMessageId, status, timestamp: now.toISOString() });
  const delivered = report(t, 'delivered');
  const signed = (body: Buffer, at = now, secret = s.simulator) => ({ 'content-type': 'application/json', ...createSignatureHeaders(secret, body, at) });
  const undelivered = report(t, 'undelivered');
  const inbound = json({ from: t.to, to: '+15550100', body: 'STOP' });
  const minutes = (m: number) => new Date(now.getTime() + m * 60_000);
  const a = (kind: AttackKind, name: string, body: Buffer, headers: Record<string, string>, p = path): Attack => ({ kind, provider: 'simulator', name, path: p, body, headers, expect: kind === 'oversized' ? 413 : 401 });
  return [
    a('forged', 'no signature', delivered, { 'content-type': 'application/json' }),
    a('forged', 'signed with another secret', delivered, signed(delivered, now, randomBytes(32).toString('hex'))),
    a('forged', 'signature not hex', delivered, { ...signed(delivered), 'x-herald-signature': 'z'.repeat(64) }),
    a('forged', 'inbound, no signature', inbound, { 'content-type': 'application/json' }, '/webhooks/simulator/inbound'),
    a('forged', 'inbound, signed with another secret', inbound, signed(inbound, now, 'guess'), '/webhooks/simulator/inbound'),
    a('tampered', 'status changed after signing', delivered, signed(undelivered)),
    a('tampered', 'reference changed after signing', report(other, 'delivered'), signed(delivered)),
    a('tampered', 'timestamp header changed', delivered, { ...signed(delivered, minutes(-1)), 'x-herald-timestamp': String(Math.floor(now.getTime() / 1000)) }),
    a('replayed', 'timestamp 10 min old', delivered, signed(delivered, minutes(-10))),
    a('replayed', 'timestamp 1 day old', delivered, signed(delivered, minutes(-24 * 60))),
    a('replayed', 'timestamp 10 min ahead', delivered, signed(delivered, minutes(10))),
    a('oversized', 'status, 5 MB, validly signed', pad(`[{"reference":"${t.id}","pad":"`, '"}]'), signed(pad(`[{"reference":"${t.id}","pad":"`, '"}]'))),
    a('oversized', 'inbound, 5 MB, unsigned', pad('{"from":"+15550100","to":"+15550199","body":"', '"}'), { 'content-type': 'application/json' }, '/webhooks/simulator/inbound'),
  ];
}

function twilioAttacks(s: Secrets, baseUrl: string, t: Target, other: Target): Attack[] {
  const statusPath = (target: Target) => `/webhooks/twilio/status?ref=${target.id}`;
  const params = (status: string) => ({ MessageSid: `SM${t.providerMessageId.replace(/\W/g, '').padEnd(32, '0').slice(0, 32)}`, MessageStatus: status, AccountSid: s.twilioSid });
  const form = (p: Record<string, string>) => Buffer.from(new URLSearchParams(p).toString());
  const sign = (path: string, p: Record<string, string>, token = s.twilioToken) => ({ 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeTwilioSignature(token, `${baseUrl}${path}`, p) });
  const delivered = params('delivered');
  const inbound = { MessageSid: 'SMforged', From: t.to, To: '+15550100', Body: 'STOP', AccountSid: s.twilioSid };
  const a = (kind: AttackKind, name: string, path: string, body: Buffer, headers: Record<string, string>): Attack => ({ kind, provider: 'twilio', name, path, body, headers, expect: kind === 'oversized' ? 413 : 401 });
  return [
    a('forged', 'no signature', statusPath(t), form(delivered), { 'content-type': 'application/x-www-form-urlencoded' }),
    a('forged', 'signed with another auth token', statusPath(t), form(delivered), sign(statusPath(t), delivered, 'not-the-token')),
    a('forged', 'valid signature, another AccountSid', statusPath(t), form({ ...delivered, AccountSid: 'ACother' }), sign(statusPath(t), { ...delivered, AccountSid: 'ACother' })),
    a('forged', 'inbound, no signature', '/webhooks/twilio/inbound', form(inbound), { 'content-type': 'application/x-www-form-urlencoded' }),
    a('tampered', 'status changed after signing', statusPath(t), form(delivered), sign(statusPath(t), params('undelivered'))),
    a('tampered', 'ref in the URL changed after signing', statusPath(other), form(delivered), sign(statusPath(t), delivered)),
    a('tampered', 'parameter added after signing', statusPath(t), form({ ...delivered, ErrorCode: '30003' }), sign(statusPath(t), delivered)),
    a('tampered', 'inbound body changed after signing', '/webhooks/twilio/inbound', form({ ...inbound, Body: 'START' }), sign('/webhooks/twilio/inbound', inbound)),
    a('oversized', 'status, 5 MB form', statusPath(t), pad('MessageStatus=delivered&Pad=', ''), sign(statusPath(t), delivered)),
  ];
}

/** Aliyun and Tencent sign nothing: a secret token in the callback URL is all that proves them. */
function tokenAttacks(provider: 'aliyun' | 'tencent', token: string, t: Target): Attack[] {
  const status =
    provider === 'aliyun'
      ? json([{ phone_number: t.to.slice(1), success: true, err_code: 'DELIVERED', biz_id: t.providerMessageId, out_id: t.id, report_time: '2024-01-01 00:00:00' }])
      : json([{ mobile: t.to.slice(3), nationcode: '86', report_status: 'SUCCESS', errmsg: 'DELIVRD', description: 'ok', sid: t.providerMessageId, ext: t.id }]);
  const inbound =
    provider === 'aliyun'
      ? json([{ phone_number: t.to.slice(1), content: 'TD', sign_name: 'Herald', send_time: '2024-01-01 00:00:00', sequence_id: 1 }])
      : json([{ mobile: t.to.slice(3), nationcode: '86', sign: 'Herald', text: 'TD', time: 1700000000 }]);
  const headers = { 'content-type': 'application/json' };
  const a = (kind: AttackKind, name: string, query: string, body = status, route = 'status'): Attack => ({ kind, provider, name, path: `/webhooks/${provider}/${route}${query}`, body, headers, expect: kind === 'oversized' ? 413 : 401 });
  return [
    a('forged', 'no token', ''),
    a('forged', 'empty token', '?token='),
    a('forged', 'wrong token', `?token=${randomBytes(16).toString('hex')}`),
    a('forged', 'token with a character more', `?token=${encodeURIComponent(token)}x`),
    a('forged', 'token cut short', `?token=${encodeURIComponent(token.slice(0, -1))}`),
    a('forged', 'token upper-cased', `?token=${encodeURIComponent(token.toUpperCase())}`),
    a('forged', 'token under another name', `?Token=${encodeURIComponent(token)}`),
    a('forged', 'wrong token before the right one', `?token=wrong&token=${encodeURIComponent(token)}`),
    a('forged', 'inbound, no token', '', inbound, 'inbound'),
    a('forged', 'inbound, wrong token', '?token=guess', inbound, 'inbound'),
    a('oversized', 'status, 5 MB, right token', `?token=${encodeURIComponent(token)}`, pad('[{"pad":"', '"}]')),
  ];
}

export function buildAttacks(secrets: Secrets, baseUrl: string, targets: Target[], now = new Date()): Attack[] {
  const [a, b, c, d] = [0, 1, 2, 3].map((i) => targets[i % targets.length]!);
  return [
    ...simulatorAttacks(secrets, a!, b!, now),
    ...twilioAttacks(secrets, baseUrl, b!, c!),
    ...tokenAttacks('aliyun', secrets.aliyunToken, c!),
    ...tokenAttacks('tencent', secrets.tencentToken, d!),
  ];
}

// The SMPP adapter against a fake SMSC on 127.0.0.1 (test/fakes/smsc.ts). SMPP has no
// webhooks, so instead of providerContract these tests check the same promises directly:
// a lower-case name, one of three result kinds, receipts mapped to the message.

import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SmppProvider, type SmppOptions } from '../../src/providers/smpp/smpp.js';
import { splitBody } from '../../src/providers/smpp/smpp-encoding.js';
import { SmppMemory } from '../../src/providers/smpp/smpp-memory.js';
import { messageIdKeys, parseReceipt } from '../../src/providers/smpp/smpp-receipt.js';
import { classifyCommandStatus, commandStatuses } from '../../src/providers/smpp/smpp-status.js';
import { providerErrorCodes, WebhookPayloadError, type InboundReport, type OutboundMessage, type SendResult, type StatusReport, type WebhookRequest } from '../../src/providers/types.js';
import { ESME, startSmscFake, type ReceiptStat, type SmscFake, type SmscFakeOptions } from '../fakes/smsc.js';
import { closedPort } from '../support/ports.js';

function recordingEvents() {
  const events = {
    reports: [] as StatusReport[],
    replies: [] as InboundReport[],
    failNext: 0,
    providers: new Set<string>(),
    async statusReports(provider: string, reports: StatusReport[]) {
      events.providers.add(provider);
      if (events.failNext > 0) {
        events.failNext -= 1;
        throw new Error('database unavailable');
      }
      events.reports.push(...reports);
    },
    async inbound(provider: string, reports: InboundReport[]) {
      events.providers.add(provider);
      if (events.failNext > 0) {
        events.failNext -= 1;
        throw new Error('database unavailable');
      }
      events.replies.push(...reports);
    },
  };
  return events;
}
type Events = ReturnType<typeof recordingEvents>;

function captureLogger() {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFake(options: SmscFakeOptions = {}): Promise<SmscFake> {
  const smsc = await startSmscFake(options);
  cleanups.push(() => smsc.close());
  return smsc;
}

function startProvider(url: string, overrides: Partial<SmppOptions> = {}) {
  const events = recordingEvents();
  const { logger, lines } = captureLogger();
  const provider = new SmppProvider({
    url,
    sourceAddr: 'Herald',
    window: 10,
    enquireLinkMs: 30_000,
    timeoutMs: 300,
    events,
    logger,
    bindTimeoutMs: 1_000,
    reconnectInitialMs: 20,
    reconnectMaxMs: 100,
    ...overrides,
  });
  cleanups.push(() => provider.close());
  return { provider, events, lines };
}

async function setup(fakeOptions: SmscFakeOptions = {}, overrides: Partial<SmppOptions> = {}) {
  const smsc = await startFake(fakeOptions);
  return { smsc, ...startProvider(smsc.url, overrides) };
}

function message(patch: Partial<OutboundMessage> = {}): OutboundMessage {
  return { id: randomUUID(), to: '+15550001234', body: 'Hello from Herald', segments: 1, encoding: 'GSM7', ...patch };
}

async function accepted(result: Promise<SendResult>): Promise<string> {
  const settled = await result;
  if (settled.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(settled)}`);
  return settled.providerMessageId;
}

async function waitUntil(predicate: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const reportsFor = (events: Events, providerMessageId: string) => events.reports.filter((r) => r.providerMessageId === providerMessageId);

describe('smpp provider, what every adapter promises', () => {
  it('has a lower-case name usable as a path token', async () => {
    const { provider } = await setup();
    expect(provider.name).toBe('smpp');
    expect(provider.name).toMatch(/^[a-z][a-z0-9-]*$/);
  });

  it('answers every submission with exactly one of the three result kinds', async () => {
    const { provider } = await setup();
    const results = await Promise.all([message(), message({ to: '+15550000001' }), message({ to: 'not-a-number' })].map((m) => provider.send(m)));
    expect(results.map((r) => r.kind)).toEqual(['accepted', 'rejected', 'rejected']);
    for (const result of results) {
      if (result.kind === 'accepted') expect(result.providerMessageId).not.toBe('');
      else {
        expect(providerErrorCodes).toContain(result.errorCode);
        expect(result.message).not.toBe('');
      }
    }
  });

  it('refuses every webhook: SMPP receipts and replies come over the bind', async () => {
    const { provider } = await setup();
    const request: WebhookRequest = { path: '/webhooks/smpp/status', headers: {}, rawBody: Buffer.from('{}'), url: 'https://herald.example/webhooks/smpp/status', receivedAt: new Date() };
    expect(await provider.verifyWebhook(request)).toBe(false);
    expect(() => provider.parseStatusReport(request)).toThrow(WebhookPayloadError);
    expect(() => provider.parseInbound(request)).toThrow(WebhookPayloadError);
  });
});

describe('smpp submit_sm', () => {
  it('binds, submits with the documented fields, and hands the receipt to events as DELIVERED', async () => {
    const { smsc, provider, events } = await setup();
    const sent = message();
    const id = await accepted(provider.send(sent));
    expect(smsc.binds).toEqual([{ systemId: 'herald', password: 'secret', accepted: true }]);
    expect(smsc.submits).toHaveLength(1);
    expect(smsc.submits[0]).toMatchObject({
      destinationAddr: '15550001234',
      destTon: 1,
      destNpi: 1,
      sourceAddr: 'Herald',
      sourceTon: 5,
      registeredDelivery: 1,
      dataCoding: 0,
      esmClass: 0,
      text: sent.body,
      messageId: id,
    });
    await waitUntil(() => reportsFor(events, id).length > 0);
    expect(reportsFor(events, id)).toEqual([{ reference: sent.id, providerMessageId: id, status: 'DELIVERED', rawStatus: 'DELIVRD', rawErrorCode: '000' }]);
    expect([...events.providers]).toEqual(['smpp']);
    // deliver_sm_resp went back only after events took the report.
    await waitUntil(() => smsc.deliveries.some((d) => d.messageId === id));
    expect(smsc.deliveries.find((d) => d.messageId === id)?.commandStatus).toBe(ESME.ROK);
  });

  it('sends a numeric sender as an international number without the plus', async () => {
    const { smsc, provider } = await setup();
    await accepted(provider.send(message({ from: '+447700900123' })));
    expect(smsc.submits[0]).toMatchObject({ sourceAddr: '447700900123', sourceTon: 1, sourceNpi: 1 });
  });

  it('reports an undelivered receipt with the carrier error kept verbatim', async () => {
    const { provider, events } = await setup();
    const id = await accepted(provider.send(message({ to: '+15550000000' })));
    await waitUntil(() => reportsFor(events, id).length > 0);
    expect(reportsFor(events, id)[0]).toMatchObject({ status: 'UNDELIVERED', rawStatus: 'UNDELIV', errorCode: 'UNDELIVERABLE', rawErrorCode: '001' });
  });

  it('rejects a recipient that is not E.164 without submitting', async () => {
    const { smsc, provider } = await setup();
    const result = await provider.send(message({ to: '0800 123' }));
    expect(result).toMatchObject({ kind: 'rejected', errorCode: 'INVALID_NUMBER' });
    expect(smsc.submits).toHaveLength(0);
  });

  it('sends a long GSM message as numbered parts that reassemble to the original, never splitting an escape', async () => {
    const { smsc, provider, events } = await setup();
    // 152 septets, then '{' (2 septets) which must move whole to part 2.
    const body = `${'a'.repeat(152)}{${'b'.repeat(150)}€${'c'.repeat(100)}`;
    const sent = message({ body, segments: 3 });
    const id = await accepted(provider.send(sent));
    const parts = smsc.submits;
    expect(parts).toHaveLength(3);
    expect(parts.map((p) => p.concatenation?.sequence)).toEqual([1, 2, 3]);
    expect(new Set(parts.map((p) => p.concatenation?.total))).toEqual(new Set([3]));
    expect(new Set(parts.map((p) => p.concatenation?.reference)).size).toBe(1);
    for (const part of parts) {
      expect(part.esmClass & 0x40).toBe(0x40);
      expect(part.dataCoding).toBe(0);
      expect(part.octets).toBeLessThanOrEqual(153);
    }
    expect(parts[0].text).toBe('a'.repeat(152));
    expect(smsc.messages).toHaveLength(1);
    expect(smsc.messages[0].text).toBe(body);
    expect(id).toBe(smsc.messages[0].messageIds[0]);
    // Three receipts, one DELIVERED for the message once every part is delivered.
    await waitUntil(() => smsc.deliveries.filter((d) => d.kind === 'receipt').length === 3);
    expect(events.reports).toEqual([{ reference: sent.id, providerMessageId: id, status: 'DELIVERED', rawStatus: 'DELIVRD', rawErrorCode: '000' }]);
  });

  it('sends a long UCS-2 message in parts of at most 67 code units without splitting a surrogate pair', async () => {
    const { smsc, provider } = await setup();
    const body = `${'д'.repeat(66)}😀${'ж'.repeat(60)}你好😀${'я'.repeat(10)}`;
    await accepted(provider.send(message({ body, encoding: 'UCS2', segments: 3 })));
    expect(smsc.submits.map((p) => p.concatenation?.sequence)).toEqual([1, 2, 3]);
    expect(smsc.submits[0].text).toBe('д'.repeat(66));
    for (const part of smsc.submits) {
      expect(part.dataCoding).toBe(8);
      expect(part.octets).toBeLessThanOrEqual(134);
      expect(part.text).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
    expect(smsc.messages[0].text).toBe(body);
  });

  it('sends a body Herald marked GSM7 as UCS-2 when GSM cannot carry a character', async () => {
    const { smsc, provider } = await setup();
    await accepted(provider.send(message({ body: 'naïve “quotes”', encoding: 'GSM7' })));
    expect(smsc.submits[0]).toMatchObject({ dataCoding: 8, text: 'naïve “quotes”' });
  });

  it('fails a long message at once when any part is undelivered, under the first part’s id', async () => {
    const { smsc, provider, events } = await setup({ receipts: false });
    const sent = message({ body: 'x'.repeat(300), segments: 2 });
    const id = await accepted(provider.send(sent));
    const [, second] = smsc.messages[0].messageIds;
    expect(await smsc.sendReceipt(second, 'UNDELIV', '034')).toBe(ESME.ROK);
    expect(events.reports).toEqual([{ reference: sent.id, providerMessageId: id, status: 'UNDELIVERED', rawStatus: 'UNDELIV', errorCode: 'UNDELIVERABLE', rawErrorCode: '034' }]);
  });
});

describe('smpp delivery receipts', () => {
  const expected: [ReceiptStat, Partial<StatusReport>][] = [
    ['DELIVRD', { status: 'DELIVERED' }],
    ['UNDELIV', { status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' }],
    ['EXPIRED', { status: 'EXPIRED', errorCode: 'EXPIRED' }],
    ['REJECTD', { status: 'REJECTED', errorCode: 'UNKNOWN' }],
    ['DELETED', { status: 'FAILED', errorCode: 'UNKNOWN' }],
    ['ACCEPTD', { status: 'SENT' }],
    ['ENROUTE', { status: 'SENT' }],
    ['UNKNOWN', { status: 'SENT' }],
  ];

  it.each(expected)('maps stat:%s', async (stat, mapped) => {
    const { smsc, provider, events } = await setup({ receipts: false });
    const sent = message();
    const id = await accepted(provider.send(sent));
    expect(await smsc.sendReceipt(id, stat)).toBe(ESME.ROK);
    expect(events.reports).toHaveLength(1);
    expect(events.reports[0]).toMatchObject({ reference: sent.id, providerMessageId: id, rawStatus: stat, ...mapped });
    if (!('errorCode' in mapped)) expect(events.reports[0].errorCode).toBeUndefined();
  });

  it('reads the Appendix B examples vendors publish', () => {
    // https://help.nexmo.com/hc/en-us/articles/215468998-How-to-read-a-Nexmo-SMPP-Delivery-Receipt-
    expect(parseReceipt('id:0000000012345678 sub:001 dlvrd:001 submit date:1601010100 done date:1601010101 stat:DELIVRD err:000 text:none')).toEqual({
      messageId: '0000000012345678',
      stat: 'DELIVRD',
      err: '000',
    });
    // https://smppcenter.com/kb/how-read-smpp-delivery-receipt (12-digit dates)
    expect(parseReceipt('id:64567564356765435676 sub:001 dlvrd:001 submit date:190608165232 done date:190608165237 stat:DELIVRD err:000 text:Hello World')).toEqual({
      messageId: '64567564356765435676',
      stat: 'DELIVRD',
      err: '000',
    });
    // http://www.cardboardfish.com/support/bin/view/Main/WhatIsTheFormatOfSMPPDeliveryReceipts ("Text:", line break)
    expect(parseReceipt('id:1A2B3C sub:001 dlvrd:000 submit date:1601010100 done\ndate:1601010101 stat:undeliv err:5 Text: hi')).toEqual({ messageId: '1A2B3C', stat: 'UNDELIV', err: '5' });
  });

  it('prefers the receipted_message_id and message_state TLVs over the text', () => {
    expect(parseReceipt('id:1 stat:DELIVRD err:000', { receipted_message_id: 'abc', message_state: 5 })).toEqual({ messageId: 'abc', stat: 'UNDELIV', err: '000' });
    expect(parseReceipt('', { receipted_message_id: 'abc', message_state: 3, network_error_code: Buffer.from([3, 0, 27]) })).toEqual({ messageId: 'abc', stat: 'EXPIRED', err: '3:27' });
    expect(parseReceipt('hello, not a receipt')).toBeUndefined();
  });

  it('matches a decimal receipt id to a hex submit_sm_resp id', async () => {
    const { smsc, provider, events } = await setup({ idFormat: 'hex', receiptIdFormat: 'decimal', receiptTlvs: false });
    const sent = message();
    const id = await accepted(provider.send(sent));
    expect(id).toMatch(/^[0-9A-F]+$/);
    expect(id).not.toBe(String(Number.parseInt(id, 16)));
    await waitUntil(() => events.reports.length > 0);
    expect(events.reports[0]).toMatchObject({ reference: sent.id, providerMessageId: id, status: 'DELIVERED' });
    await smsc.waitFor(() => smsc.deliveries.length > 0);
    expect(smsc.deliveries[0].commandStatus).toBe(ESME.ROK);
    expect(messageIdKeys('00FF')).toContain('xff');
    expect(messageIdKeys('255')).toContain('xff');
  });

  it('answers a receipt Herald could not store with ESME_RX_T_APPN, and stores the redelivery', async () => {
    const { smsc, provider, events } = await setup({ receipts: false });
    const id = await accepted(provider.send(message()));
    events.failNext = 1;
    expect(await smsc.sendReceipt(id, 'DELIVRD')).toBe(ESME.ROK);
    expect(smsc.deliveries.map((d) => d.commandStatus)).toEqual([ESME.RX_T_APPN, ESME.ROK]);
    expect(events.reports).toHaveLength(1);
  });

  it('reports a receipt for an id this process never sent under that id (after a restart)', async () => {
    const { smsc, events } = await setup({ receipts: false });
    await waitUntil(() => smsc.boundSessions === 1); // bound at construction
    expect(await smsc.sendReceipt('777', 'EXPIRED')).toBe(ESME.ROK);
    expect(events.reports).toEqual([{ providerMessageId: '777', status: 'EXPIRED', rawStatus: 'EXPIRED', errorCode: 'EXPIRED', rawErrorCode: '001' }]);
  });

  it('polls a message with query_sm once its state is final', async () => {
    const { provider, events } = await setup({ receiptDelayMs: 5 });
    const sent = message();
    const id = await accepted(provider.send(sent));
    await waitUntil(() => events.reports.length > 0);
    expect(await provider.queryStatus({ id: sent.id, to: sent.to, providerMessageId: id, sentAt: new Date() })).toMatchObject({
      reference: sent.id,
      providerMessageId: id,
      status: 'DELIVERED',
      rawStatus: 'DELIVRD',
    });
    expect(await provider.queryStatus({ id: 'x', to: sent.to, providerMessageId: 'nope', sentAt: new Date() })).toBeUndefined();
  });
});

describe('smpp replies (MO)', () => {
  it('hands a reply to events with the sender in E.164', async () => {
    const { smsc, events } = await setup();
    await waitUntil(() => smsc.boundSessions === 1);
    expect(await smsc.sendInbound({ from: '+447700900123', to: '+15550001111', text: 'STOP please' })).toEqual([ESME.ROK]);
    expect(events.replies).toHaveLength(1);
    expect(events.replies[0]).toMatchObject({ from: '+447700900123', to: '+15550001111', body: 'STOP please' });
    expect(events.replies[0].receivedAt).toBeInstanceOf(Date);
  });

  it('reassembles a concatenated UCS-2 reply (UDH) into one message', async () => {
    const { smsc, events } = await setup();
    await waitUntil(() => smsc.boundSessions === 1);
    const text = `${'привет '.repeat(15)}😀 конец`;
    expect(await smsc.sendInbound({ from: '+447700900123', to: 'Herald', text, parts: 3 })).toEqual([ESME.ROK, ESME.ROK, ESME.ROK]);
    expect(events.replies).toEqual([expect.objectContaining({ from: '+447700900123', to: 'Herald', body: text })]);
  });

  it('reassembles a reply split with sar_* TLVs', async () => {
    const { smsc, events } = await setup();
    await waitUntil(() => smsc.boundSessions === 1);
    const text = 'part one, part two, and part three';
    await smsc.sendInbound({ from: '+447700900123', to: '+15550001111', text, parts: 3, sar: true, reference: 7 });
    expect(events.replies.map((r) => r.body)).toEqual([text]);
  });

  it('asks the SMSC to redeliver a reply Herald could not store', async () => {
    const { smsc, events } = await setup();
    await waitUntil(() => smsc.boundSessions === 1);
    events.failNext = 1;
    expect(await smsc.sendInbound({ from: '+447700900123', to: '+15550001111', text: 'YES' })).toEqual([ESME.RX_T_APPN]);
    expect(await smsc.sendInbound({ from: '+447700900123', to: '+15550001111', text: 'YES' })).toEqual([ESME.ROK]);
    expect(events.replies.map((r) => r.body)).toEqual(['YES']);
  });
});

describe('smpp link', () => {
  it('sends enquire_link on schedule', async () => {
    const { smsc } = await setup({}, { enquireLinkMs: 100 });
    await waitUntil(() => smsc.enquireLinks.length >= 3, 2_000);
    const gaps = smsc.enquireLinks.slice(1).map((at, i) => at - smsc.enquireLinks[i]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(80);
  });

  it('answers ACCOUNT_ERROR for a refused password, logging each refused bind once', async () => {
    const smsc = await startFake();
    const { provider, lines } = startProvider(smsc.url.replace(':secret@', ':wrong@'));
    const result = await provider.send(message());
    expect(result).toMatchObject({ kind: 'retryable', errorCode: 'ACCOUNT_ERROR', rawCode: '0x0000000D' });
    expect(result.kind === 'retryable' && result.maybeAccepted).toBeFalsy();
    await waitUntil(() => smsc.binds.length >= 3);
    await provider.close();
    const refusals = lines.filter((l) => l.msg === 'smpp: the SMSC refused the bind');
    // One line per refused attempt; the last bind may have been answered after close() stopped listening.
    expect(refusals.length).toBeLessThanOrEqual(smsc.binds.length);
    expect(refusals.length).toBeGreaterThanOrEqual(Math.max(2, smsc.binds.length - 1));
    expect(refusals.every((l) => l.level === 50)).toBe(true);
    expect(smsc.binds.every((b) => !b.accepted)).toBe(true);
    expect(smsc.submits).toHaveLength(0);
  });

  it('keeps at most `window` submit_sm unanswered and queues the rest', async () => {
    const { smsc, provider } = await setup({}, { window: 3, timeoutMs: 2_000 });
    smsc.setMode({ responseDelayMs: 20 });
    const results = await Promise.all(Array.from({ length: 15 }, () => provider.send(message())));
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(smsc.submits).toHaveLength(15);
    expect(smsc.maxUnanswered).toBe(3);
  });

  it('maps throttling to THROTTLED, retryable, certainly not accepted', async () => {
    const { smsc, provider } = await setup();
    smsc.setMode({ throttle: 2 });
    const first = await provider.send(message());
    const second = await provider.send(message());
    for (const result of [first, second]) {
      expect(result).toEqual({ kind: 'retryable', errorCode: 'THROTTLED', rawCode: '0x00000058', message: expect.stringContaining('ESME_RTHROTTLED') });
    }
    await accepted(provider.send(message()));
  });

  const mapped: [number, 'rejected' | 'retryable', string][] = [
    [ESME.RINVDSTADR, 'rejected', 'INVALID_NUMBER'],
    [ESME.RINVSRCADR, 'rejected', 'BLOCKED'],
    [ESME.RINVMSGLEN, 'rejected', 'CONTENT_REJECTED'],
    [0x66, 'rejected', 'CONTENT_REJECTED'],
    [0x50, 'rejected', 'INVALID_NUMBER'],
    [ESME.RSYSERR, 'retryable', 'PROVIDER_ERROR'],
    [ESME.RMSGQFUL, 'retryable', 'THROTTLED'],
    [ESME.RTHROTTLED, 'retryable', 'THROTTLED'],
    [ESME.RSUBMITFAIL, 'retryable', 'PROVIDER_ERROR'],
    [0x0e, 'retryable', 'ACCOUNT_ERROR'],
    [0x0401, 'retryable', 'UNKNOWN'],
    [0x7777, 'retryable', 'UNKNOWN'],
  ];
  it.each(mapped.map(([status, kind, code]) => [`0x${status.toString(16)}`, kind, code, status] as const))('maps command_status %s to %s %s', async (_hex, kind, errorCode, status) => {
    const { smsc, provider } = await setup();
    smsc.setMode({ commandStatusFor: { '15550004242': status } });
    const result = await provider.send(message({ to: '+15550004242' }));
    expect(result).toMatchObject({ kind, errorCode, rawCode: `0x${status.toString(16).toUpperCase().padStart(8, '0')}` });
    expect(result.kind === 'retryable' && result.maybeAccepted).toBeFalsy();
  });

  it('has a sound command_status table', () => {
    for (const rule of Object.values(commandStatuses)) expect(providerErrorCodes).toContain(rule.errorCode);
    const permanent = Object.entries(commandStatuses)
      .filter(([, rule]) => rule.kind === 'rejected')
      .map(([, rule]) => rule.name)
      .sort();
    expect(permanent).toEqual(
      ['ESME_RINVDSTADR', 'ESME_RINVDSTNPI', 'ESME_RINVDSTTON', 'ESME_RINVMSGLEN', 'ESME_RINVSRCADR', 'ESME_RINVSRCNPI', 'ESME_RINVSRCTON', 'ESME_RX_P_APPN', 'ESME_RX_R_APPN'].sort(),
    );
    expect(classifyCommandStatus(0x0400)).toMatchObject({ kind: 'retryable', errorCode: 'UNKNOWN' });
  });

  it('answers TIMEOUT maybeAccepted when submit_sm_resp does not come, and remembers a late answer', async () => {
    const { smsc, provider } = await setup({}, { timeoutMs: 150 });
    smsc.setMode({ withholdResponses: true });
    const sent = message();
    const started = Date.now();
    const result = await provider.send(sent);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(result).toMatchObject({ kind: 'retryable', errorCode: 'TIMEOUT', maybeAccepted: true });
    smsc.releaseWithheld();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the late submit_sm_resp crosses the socket
    // The retry finds the late acceptance: same id, nothing submitted again.
    const id = await accepted(provider.send(sent));
    expect(id).toBe(smsc.submits[0].messageId);
    expect(smsc.submits).toHaveLength(1);
  });

  it('answers PROVIDER_ERROR, not maybeAccepted, when the SMSC refuses connections', async () => {
    const port = await closedPort();
    const { provider } = startProvider(`smpp://herald:secret@127.0.0.1:${port}`, { bindWaitMs: 200 });
    const result = await provider.send(message());
    expect(result).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'not_bound' });
    expect(result.kind === 'retryable' && result.maybeAccepted).toBeFalsy();
  });

  it('answers PROVIDER_ERROR maybeAccepted when the connection drops with a submit in flight, then reconnects by itself', async () => {
    const { smsc, provider } = await setup({}, { timeoutMs: 2_000 });
    await waitUntil(() => smsc.boundSessions === 1);
    smsc.setMode({ withholdResponses: true });
    const pending = provider.send(message());
    await waitUntil(() => smsc.submits.length === 1);
    smsc.dropConnections();
    expect(await pending).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'connection_lost', maybeAccepted: true });
    smsc.setMode({ withholdResponses: false });
    await waitUntil(() => smsc.boundSessions === 1);
    await accepted(provider.send(message()));
    expect(smsc.binds).toHaveLength(2);
  });

  it('binds lazily on the first send when asked to, waiting for the bind in progress', async () => {
    const { smsc, provider } = await setup({}, { connect: 'lazy' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(smsc.binds).toHaveLength(0);
    await accepted(provider.send(message()));
    expect(smsc.binds).toHaveLength(1);
  });

  it('unbinds on close and stops reconnecting', async () => {
    const { smsc, provider } = await setup();
    await waitUntil(() => smsc.boundSessions === 1);
    await provider.close();
    await waitUntil(() => smsc.boundSessions === 0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(smsc.binds).toHaveLength(1);
    expect(await provider.send(message())).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR' });
  });

  it('loses no message when the connection drops mid-run: duplicates only after maybeAccepted', async () => {
    const { smsc, provider, events } = await setup({ receiptDelayMs: 5 }, { window: 5, timeoutMs: 1_000 });
    smsc.setMode({ responseDelayMs: 3, dropAfterSubmits: 100 });
    const messages = Array.from({ length: 200 }, (_, i) => message({ body: `message ${i}` }));
    const ambiguous = new Map<string, number>();
    const acceptedIds = new Map<string, string>();
    // Like the dispatcher: retry retryable results with a short backoff.
    await Promise.all(
      messages.map(async (m) => {
        for (let attempt = 1; attempt <= 50; attempt++) {
          const result = await provider.send(m);
          if (result.kind === 'accepted') {
            acceptedIds.set(m.body, result.providerMessageId);
            return;
          }
          if (result.kind === 'rejected') throw new Error(`unexpected rejection ${result.rawCode}`);
          if (result.maybeAccepted) ambiguous.set(m.body, (ambiguous.get(m.body) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
        }
        throw new Error(`${m.body} never accepted`);
      }),
    );
    expect(smsc.binds.filter((b) => b.accepted).length).toBeGreaterThanOrEqual(2); // it did reconnect
    expect(ambiguous.size).toBeGreaterThan(0); // the drop did catch submits in flight
    const taken = new Map<string, number>();
    for (const m of smsc.messages) taken.set(m.text, (taken.get(m.text) ?? 0) + 1);
    for (const m of messages) {
      expect(acceptedIds.has(m.body)).toBe(true);
      const copies = taken.get(m.body) ?? 0;
      expect(copies).toBeGreaterThanOrEqual(1);
      // A second copy at the SMSC only where an earlier attempt said it may have been taken.
      expect(copies - 1).toBeLessThanOrEqual(ambiguous.get(m.body) ?? 0);
    }
    // Every accepted id gets its receipt through to events.
    await waitUntil(() => [...acceptedIds.values()].every((id) => events.reports.some((r) => r.providerMessageId === id && r.status === 'DELIVERED')), 5_000);
  });
});

describe('smpp building blocks', () => {
  it('splits exactly at 160 GSM septets and 70 UCS-2 units', () => {
    expect(splitBody('a'.repeat(160), 'GSM7', 1).parts).toHaveLength(1);
    expect(splitBody('a'.repeat(161), 'GSM7', 1).parts.map((p) => p.text.length)).toEqual([153, 8]);
    expect(splitBody('{'.repeat(80), 'GSM7', 1).parts).toHaveLength(1);
    expect(splitBody('{'.repeat(81), 'GSM7', 1).parts.map((p) => p.text.length)).toEqual([76, 5]);
    expect(splitBody('ж'.repeat(70), 'UCS2', 1).parts).toHaveLength(1);
    expect(splitBody('ж'.repeat(71), 'UCS2', 1).parts.map((p) => p.text.length)).toEqual([67, 4]);
    const { parts } = splitBody('a'.repeat(161), 'GSM7', 0x1ab);
    expect(parts.map((p) => [...(p.udh ?? [])])).toEqual([
      [0x05, 0x00, 0x03, 0xab, 2, 1],
      [0x05, 0x00, 0x03, 0xab, 2, 2],
    ]);
  });

  it('decides a long message’s status from its parts', () => {
    const memory = new SmppMemory();
    memory.recordPart('m1', 3, 0, '10');
    memory.recordPart('m1', 3, 1, '11');
    memory.recordPart('m1', 3, 2, '12');
    expect(memory.accepted('m1')).toBe('10');
    const part = (id: string) => memory.find(id)!;
    expect(part('12')).toEqual({ reference: 'm1', providerMessageId: '10', index: 2, total: 3 });
    expect(memory.shouldReport(part('11'), 'SENT')).toBe(false);
    expect(memory.shouldReport(part('10'), 'SENT')).toBe(true);
    expect(memory.shouldReport(part('10'), 'DELIVERED')).toBe(false);
    expect(memory.shouldReport(part('12'), 'DELIVERED')).toBe(false);
    expect(memory.shouldReport(part('11'), 'DELIVERED')).toBe(true);
    expect(memory.shouldReport(part('11'), 'EXPIRED')).toBe(true);
  });

  it('forgets the oldest messages past its bound', () => {
    const memory = new SmppMemory(2);
    memory.recordPart('a', 1, 0, '1');
    memory.recordPart('b', 1, 0, '2');
    memory.recordPart('c', 1, 0, '3');
    expect(memory.accepted('a')).toBeUndefined();
    expect(memory.find('1')).toBeUndefined();
    expect(memory.accepted('c')).toBe('3');
  });
});

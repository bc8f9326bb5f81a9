import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyReport, type MessageStatus } from '../../src/domain/status-machine.js';
import { SimulatorProvider, type SimulatorOptions, type SimulatorTimers } from '../../src/providers/simulator/simulator.js';
import { computeSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/providers/simulator/simulator-signature.js';
import { WebhookPayloadError, type OutboundMessage, type WebhookRequest } from '../../src/providers/types.js';
import { providerContract } from './provider-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const SECRET = 'test-secret';
let sequence = 0;

function outbound(to: string): OutboundMessage {
  return { id: `msg_${++sequence}`, to, body: 'Your code is 1234', segments: 1, encoding: 'GSM7' };
}

/** Real timers, but every requested delay is recorded (and shortened) so tests need not sleep. */
function recordingTimers(): SimulatorTimers & { delaysMs: number[] } {
  const delaysMs: number[] = [];
  return {
    delaysMs,
    setTimeout: (callback, delayMs) => {
      delaysMs.push(delayMs);
      return setTimeout(callback, Math.min(delayMs, 5));
    },
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

const withBody = (request: WebhookRequest, body: string | object): WebhookRequest => ({
  ...request,
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

providerContract('simulator', async () => {
  const receiver = await startWebhookReceiver();
  const provider = new SimulatorProvider({ secret: SECRET, publicUrl: receiver.url, reportDelayMs: 1 });
  return {
    provider,
    acceptedMessage: outbound('+15005550100'),
    statusWebhookFor: () => receiver.next(),
    dispose: async () => {
      await provider.close();
      await receiver.close();
    },
  };
});

describe('simulator provider', () => {
  let receiver: WebhookReceiver;
  let simulator: SimulatorProvider;
  const create = (options: Partial<SimulatorOptions> = {}) => {
    simulator = new SimulatorProvider({ secret: SECRET, publicUrl: receiver.url, reportDelayMs: 1, callbackBackoffMs: 1, ...options });
    return simulator;
  };

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await simulator?.close();
    await receiver.close();
  });

  describe('outcomes by recipient', () => {
    it('accepts an ordinary number and reports DELIVERED through a signed webhook', async () => {
      const message = outbound('+8613800138000');
      const result = await create().send(message);
      expect(result).toMatchObject({ kind: 'accepted', rawStatus: 'accepted' });
      if (result.kind !== 'accepted') return;

      const request = await receiver.next();
      expect(request.path).toBe('/webhooks/simulator/status');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers[TIMESTAMP_HEADER]).toMatch(/^\d+$/);
      expect(request.headers[SIGNATURE_HEADER]).toMatch(/^[0-9a-f]{64}$/);
      expect(simulator.verifyWebhook(request)).toBe(true);
      expect(simulator.parseStatusReport(request)).toEqual([
        {
          reference: message.id,
          providerMessageId: result.providerMessageId,
          status: 'DELIVERED',
          rawStatus: 'delivered',
          occurredAt: expect.any(Date),
        },
      ]);
    });

    it('signs the exact body bytes with the timestamp as documented', async () => {
      await create().send(outbound('+15005550100'));
      const request = await receiver.next();
      const timestamp = Number(request.headers[TIMESTAMP_HEADER]);
      expect(request.headers[SIGNATURE_HEADER]).toBe(computeSignature(SECRET, timestamp, request.rawBody));
      expect(JSON.parse(request.rawBody.toString())).toEqual({
        reference: expect.any(String),
        providerMessageId: expect.stringMatching(/^sim_/),
        status: 'delivered',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    });

    it('reports UNDELIVERED with a normalised error code for numbers ending in 0000', async () => {
      await create().send(outbound('+15005550000'));
      const [report] = simulator.parseStatusReport(await receiver.next());
      expect(report).toMatchObject({ status: 'UNDELIVERED', rawStatus: 'undelivered', errorCode: 'UNDELIVERABLE' });
    });

    it('rejects numbers ending in 0001 at submission and never reports', async () => {
      const message = outbound('+15005550001');
      expect(await create().send(message)).toEqual({
        kind: 'rejected',
        errorCode: 'INVALID_NUMBER',
        rawCode: 'destination_rejected',
        message: expect.any(String),
      });
      await simulator.idle();
      expect(receiver.received).toHaveLength(0);
      expect(await simulator.lookup(message.id)).toEqual({ found: false });
    });

    it('times out for numbers ending in 0002, after timeoutMs, as a retryable TIMEOUT', async () => {
      const timers = recordingTimers();
      const message = outbound('+15005550002');
      expect(await create({ timers, timeoutMs: 40 }).send(message)).toMatchObject({ kind: 'retryable', errorCode: 'TIMEOUT' });
      expect(timers.delaysMs).toEqual([40]);
      await simulator.idle();
      expect(receiver.received).toHaveLength(0);
      expect(await simulator.lookup(message.id)).toEqual({ found: false });
    });

    it('rejects a recipient that is not E.164', async () => {
      expect(await create().send(outbound('13800138000'))).toMatchObject({ kind: 'rejected', errorCode: 'INVALID_NUMBER' });
    });
  });

  describe('resubmission and lookup', () => {
    it('deduplicates a resubmitted reference: same providerMessageId, one report', async () => {
      const message = outbound('+15005550100');
      const first = await create().send(message);
      const second = await simulator.send({ ...message });
      expect(first.kind).toBe('accepted');
      expect(second).toMatchObject({ kind: 'accepted' });
      expect(second.kind === 'accepted' && first.kind === 'accepted' && second.providerMessageId === first.providerMessageId).toBe(true);
      await simulator.idle();
      expect(receiver.received).toHaveLength(1);
    });

    it('looks up an accepted reference, with its status before and after the report', async () => {
      const message = outbound('+15005550100');
      const result = await create({ reportDelayMs: 30 }).send(message);
      const providerMessageId = result.kind === 'accepted' ? result.providerMessageId : '';
      expect(await simulator.lookup(message.id)).toEqual({ found: true, providerMessageId, status: 'SENT', rawStatus: 'accepted' });
      await simulator.idle();
      expect(await simulator.lookup(message.id)).toEqual({ found: true, providerMessageId, status: 'DELIVERED', rawStatus: 'delivered' });
    });

    it('forgets the oldest submissions past maxRemembered', async () => {
      create({ maxRemembered: 2 });
      const messages = [outbound('+15005550100'), outbound('+15005550101'), outbound('+15005550102')];
      for (const message of messages) await simulator.send(message);
      expect(await simulator.lookup(messages[0].id)).toEqual({ found: false });
      expect(await simulator.lookup(messages[2].id)).toMatchObject({ found: true });
    });
  });

  describe('test behaviours', () => {
    it('sends every final report twice with duplicateReports', async () => {
      await create({ duplicateReports: true }).send(outbound('+15005550100'));
      const [first, second] = [await receiver.next(), await receiver.next()];
      expect(second.rawBody).toEqual(first.rawBody);
      expect(simulator.verifyWebhook(second)).toBe(true);
    });

    it('sends the accepted report after the final one with outOfOrder, and the message stays DELIVERED', async () => {
      await create({ outOfOrder: true }).send(outbound('+15005550100'));
      const reports = [await receiver.next(), await receiver.next()].flatMap((request) => simulator.parseStatusReport(request));
      expect(reports.map((r) => r.rawStatus)).toEqual(['delivered', 'accepted']);
      const end = reports.reduce<MessageStatus>((status, report) => applyReport(status, report).next ?? status, 'SENDING');
      expect(end).toBe('DELIVERED');
    });

    it('delays the final report by reportDelayMs plus lateByMs', async () => {
      const timers = recordingTimers();
      await create({ timers, reportDelayMs: 50, lateByMs: 2000 }).send(outbound('+15005550100'));
      await receiver.next();
      expect(timers.delaysMs).toEqual([2050]);
    });

    it('applies configure() to submissions accepted afterwards', async () => {
      create();
      await simulator.send(outbound('+15005550100'));
      await simulator.idle();
      simulator.configure({ duplicateReports: true });
      await simulator.send(outbound('+15005550101'));
      await simulator.idle();
      expect(receiver.received).toHaveLength(3);
    });
  });

  describe('batched reports (reportBatchMs)', () => {
    it('sends the reports falling due together in one signed request, each message\'s in order', async () => {
      create({ reportBatchMs: 200, outOfOrder: true });
      const sent = await Promise.all(['+15005550100', '+15005550000', '+15005550101'].map((to) => simulator.send(outbound(to))));
      await simulator.idle();
      expect(receiver.received).toHaveLength(1);
      const request = receiver.received[0]!;
      expect(simulator.verifyWebhook(request)).toBe(true);
      const reports = simulator.parseStatusReport(request);
      const ids = sent.map((r) => (r.kind === 'accepted' ? r.providerMessageId : ''));
      expect(reports.map((r) => [r.providerMessageId, r.rawStatus])).toEqual([
        [ids[0], 'delivered'],
        [ids[0], 'accepted'],
        [ids[1], 'undelivered'],
        [ids[1], 'accepted'],
        [ids[2], 'delivered'],
        [ids[2], 'accepted'],
      ]);
    });

    it('marks a batch\'s submissions reported only once it was taken, and retries the whole batch', async () => {
      receiver.respondWith(503);
      create({ reportBatchMs: 5 });
      const [a, b] = [outbound('+15005550100'), outbound('+15005550101')];
      await Promise.all([simulator.send(a), simulator.send(b)]);
      await simulator.idle();
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received[1]!.rawBody).not.toEqual(Buffer.alloc(0));
      expect(simulator.parseStatusReport(receiver.received[1]!).map((r) => r.reference)).toEqual([a.id, b.id]);
      expect(await simulator.lookup(a.id)).toMatchObject({ found: true, rawStatus: 'delivered' });
    });

    it('drops a batch still waiting when closed', async () => {
      create({ reportBatchMs: 60_000 });
      await simulator.send(outbound('+15005550100'));
      await simulator.close();
      expect(receiver.received).toHaveLength(0);
    });
  });

  describe('callback delivery', () => {
    it('retries a failed callback with backoff until Herald answers 2xx', async () => {
      const onCallbackFailure = vi.fn();
      const timers = recordingTimers();
      receiver.respondWith(500, 503);
      await create({ timers, onCallbackFailure, reportDelayMs: 10, callbackBackoffMs: 100 }).send(outbound('+15005550100'));
      await simulator.idle();
      expect(receiver.received).toHaveLength(3);
      expect(timers.delaysMs).toEqual([10, 100, 200]);
      expect(onCallbackFailure).not.toHaveBeenCalled();
    });

    it('gives up after callbackAttempts and says so', async () => {
      const onCallbackFailure = vi.fn();
      receiver.respondWith(500, 500, 500, 500, 500);
      await create({ onCallbackFailure, callbackAttempts: 3 }).send(outbound('+15005550100'));
      await simulator.idle();
      expect(receiver.received).toHaveLength(3);
      expect(onCallbackFailure).toHaveBeenCalledWith({ url: `${receiver.url}/webhooks/simulator/status`, attempts: 3, error: 'HTTP 500' });
    });

    it('does not retry a callback Herald refused with a 4xx', async () => {
      const onCallbackFailure = vi.fn();
      receiver.respondWith(401);
      await create({ onCallbackFailure }).send(outbound('+15005550100'));
      await simulator.idle();
      expect(receiver.received).toHaveLength(1);
      expect(onCallbackFailure).toHaveBeenCalledWith(expect.objectContaining({ attempts: 1, error: 'HTTP 401' }));
    });

    it('reads a publicUrl function at each callback, for a server that learns its port late', async () => {
      let publicUrl = 'http://127.0.0.1:1';
      await create({ publicUrl: () => publicUrl, reportDelayMs: 20 }).send(outbound('+15005550100'));
      publicUrl = `${receiver.url}/`;
      expect((await receiver.next()).path).toBe('/webhooks/simulator/status');
    });

    it('retries when Herald cannot be reached at all, then gives up', async () => {
      const onCallbackFailure = vi.fn();
      await create({ publicUrl: 'http://127.0.0.1:1', onCallbackFailure, callbackAttempts: 2 }).send(outbound('+15005550100'));
      await simulator.idle();
      expect(onCallbackFailure).toHaveBeenCalledWith(expect.objectContaining({ url: 'http://127.0.0.1:1/webhooks/simulator/status', attempts: 2 }));
    });

    it('drops pending reports on close() and answers later sends as retryable', async () => {
      await create({ reportDelayMs: 60_000 }).send(outbound('+15005550100'));
      await simulator.close();
      expect(receiver.received).toHaveLength(0);
      expect(await simulator.send(outbound('+15005550101'))).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR' });
    });

    it('posts a signed inbound reply that parseInbound reads', async () => {
      expect(await create().simulateInbound({ from: '+15005550100', to: '+15005550199', body: 'STOP' })).toBe(true);
      const request = await receiver.next();
      expect(request.path).toBe('/webhooks/simulator/inbound');
      expect(simulator.verifyWebhook(request)).toBe(true);
      expect(simulator.parseInbound(request)).toEqual([
        { from: '+15005550100', to: '+15005550199', body: 'STOP', receivedAt: expect.any(Date) },
      ]);
    });
  });

  describe('verifyWebhook', () => {
    let request: WebhookRequest;
    beforeEach(async () => {
      await create().send(outbound('+15005550100'));
      request = await receiver.next();
    });

    const secondsLater = (seconds: number): WebhookRequest => ({
      ...request,
      receivedAt: new Date(Number(request.headers[TIMESTAMP_HEADER]) * 1000 + seconds * 1000),
    });

    it('accepts the request as sent, up to the end of the replay window', () => {
      expect(simulator.verifyWebhook(request)).toBe(true);
      expect(simulator.verifyWebhook(secondsLater(300))).toBe(true);
    });

    it('refuses a tampered body', () => {
      const body = JSON.parse(request.rawBody.toString());
      expect(simulator.verifyWebhook(withBody(request, { ...body, status: 'undelivered' }))).toBe(false);
    });

    it('refuses a request signed with another secret', () => {
      const other = new SimulatorProvider({ secret: 'another-secret', publicUrl: receiver.url });
      expect(other.verifyWebhook(request)).toBe(false);
    });

    it('refuses a replay older than the window, and a timestamp from too far ahead', () => {
      expect(simulator.verifyWebhook(secondsLater(301))).toBe(false);
      expect(simulator.verifyWebhook(secondsLater(-301))).toBe(false);
    });

    it('honours a custom replay window', () => {
      const strict = new SimulatorProvider({ secret: SECRET, publicUrl: receiver.url, replayWindowSeconds: 10 });
      expect(strict.verifyWebhook(secondsLater(10))).toBe(true);
      expect(strict.verifyWebhook(secondsLater(11))).toBe(false);
    });

    it('refuses a missing or malformed signature or timestamp header', () => {
      for (const header of [SIGNATURE_HEADER, TIMESTAMP_HEADER]) {
        expect(simulator.verifyWebhook({ ...request, headers: { ...request.headers, [header]: undefined } })).toBe(false);
        expect(simulator.verifyWebhook({ ...request, headers: { ...request.headers, [header]: 'zz' } })).toBe(false);
      }
      const timestamp = Number(request.headers[TIMESTAMP_HEADER]);
      const shifted = { ...request.headers, [TIMESTAMP_HEADER]: String(timestamp + 1) };
      expect(simulator.verifyWebhook({ ...request, headers: shifted })).toBe(false);
    });
  });

  describe('parseStatusReport', () => {
    const report = { reference: 'msg_1', providerMessageId: 'sim_1', status: 'expired', timestamp: '2026-01-02T03:04:05Z' };
    let request: WebhookRequest;
    beforeEach(async () => {
      create();
      request = { path: '/webhooks/simulator/status', headers: {}, rawBody: Buffer.alloc(0), url: receiver.url, receivedAt: new Date() };
    });

    it('reads a batch of reports', () => {
      const reports = simulator.parseStatusReport(withBody(request, [report, { ...report, reference: 'msg_2', status: 'failed', errorCode: 'X-42' }]));
      expect(reports).toEqual([
        { reference: 'msg_1', providerMessageId: 'sim_1', status: 'EXPIRED', rawStatus: 'expired', occurredAt: new Date('2026-01-02T03:04:05Z') },
        {
          reference: 'msg_2',
          providerMessageId: 'sim_1',
          status: 'FAILED',
          rawStatus: 'failed',
          errorCode: 'UNKNOWN',
          rawErrorCode: 'X-42',
          occurredAt: new Date('2026-01-02T03:04:05Z'),
        },
      ]);
    });

    it.each([
      ['malformed JSON', '{"reference":'],
      ['an empty batch', '[]'],
      ['an unknown status word', JSON.stringify({ ...report, status: 'teleported' })],
      ['a missing reference', JSON.stringify({ ...report, reference: undefined })],
      ['a timestamp that is not ISO 8601', JSON.stringify({ ...report, timestamp: 'yesterday' })],
    ])('throws WebhookPayloadError for %s', (_, body) => {
      expect(() => simulator.parseStatusReport(withBody(request, body))).toThrow(WebhookPayloadError);
    });

    it('names the offending field in the error', () => {
      const error = (() => {
        try {
          simulator.parseStatusReport(withBody(request, { ...report, status: 'teleported' }));
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(WebhookPayloadError);
      expect((error as WebhookPayloadError).issues.join('\n')).toMatch(/status/);
    });
  });
});

// Simulators that can be bad: the behaviour model (pure), a named simulator's callbacks and
// run-time behaviour changes, and SIMULATORS in the configuration (bad input stops the start).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, makeConfig } from '../../src/config/config.js';
import { parseSimulators } from '../../src/config/simulators.js';
import { behaviourFor, decideOutcome } from '../../src/providers/simulator/behaviour.js';
import { SimulatorProvider } from '../../src/providers/simulator/simulator.js';
import { createProviders } from '../../src/providers/registry.js';
import { createLogger } from '../../src/logging/logger.js';
import type { OutboundMessage } from '../../src/providers/types.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/** A random source that answers the given values in turn (then repeats the last). */
const draws = (...values: number[]) => {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
};

let sequence = 0;
const outbound = (to: string): OutboundMessage => ({ id: `msg_b${++sequence}`, to, body: 'hello', segments: 1, encoding: 'GSM7' });

describe('simulator behaviour (pure)', () => {
  const fallback = { reportDelayMs: 50 };

  it('delivers everything, on time, when nothing is set', () => {
    expect(behaviourFor({}, 'GB', fallback)).toEqual({ deliveryRate: 1, reportDelayMs: 50, missingReportRate: 0, submitErrorRate: 0, outage: false });
  });

  it("takes the country's fields over the default's, field by field", () => {
    const settings = { default: { deliveryRate: 0.9, reportDelayMs: 10 }, countries: { GB: { deliveryRate: 0.6, outage: true } } };
    expect(behaviourFor(settings, 'GB', fallback)).toEqual({ deliveryRate: 0.6, reportDelayMs: 10, missingReportRate: 0, submitErrorRate: 0, outage: true });
    expect(behaviourFor(settings, 'US', fallback)).toMatchObject({ deliveryRate: 0.9, outage: false });
    expect(behaviourFor(settings, undefined, fallback)).toMatchObject({ deliveryRate: 0.9 });
  });

  it('decides submission errors, then delivery, then a missing report, one draw each', () => {
    const b = { deliveryRate: 0.6, reportDelayMs: 5, missingReportRate: 0.1, submitErrorRate: 0.2, outage: false };
    expect(decideOutcome(b, draws(0.1))).toEqual({ kind: 'refused', reason: 'submit-error' });
    expect(decideOutcome(b, draws(0.5, 0.59, 0.5))).toEqual({ kind: 'accepted', report: 'delivered', reportDelayMs: 5, reportMissing: false });
    expect(decideOutcome(b, draws(0.5, 0.6, 0.05))).toEqual({ kind: 'accepted', report: 'undelivered', reportDelayMs: 5, reportMissing: true });
  });

  it('refuses everything in an outage, whatever the draws', () => {
    expect(decideOutcome({ ...behaviourFor({}, 'GB', fallback), outage: true }, draws(0.99))).toEqual({ kind: 'refused', reason: 'outage' });
  });

  it('holds the rates over many draws', () => {
    const b = behaviourFor({ default: { deliveryRate: 0.6 } }, 'GB', fallback);
    let seed = 42;
    const lcg = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const outcomes = Array.from({ length: 10_000 }, () => decideOutcome(b, lcg));
    const delivered = outcomes.filter((o) => o.kind === 'accepted' && o.report === 'delivered').length / outcomes.length;
    expect(delivered).toBeGreaterThan(0.57);
    expect(delivered).toBeLessThan(0.63);
  });
});

describe('a named simulator', () => {
  let receiver: WebhookReceiver;
  let simulator: SimulatorProvider;
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await simulator?.close();
    await receiver.close();
  });
  const create = (options: Partial<ConstructorParameters<typeof SimulatorProvider>[0]> = {}) =>
    (simulator = new SimulatorProvider({ secret: 's', publicUrl: receiver.url, reportDelayMs: 1, callbackBackoffMs: 1, name: 'cheap', ...options }));

  it('reports through /webhooks/<its name>/status', async () => {
    const s = create();
    expect(s.name).toBe('cheap');
    await s.send(outbound('+447400123456'));
    const request = await receiver.next();
    expect(request.path).toBe('/webhooks/cheap/status');
    expect(s.parseStatusReport(request)[0]).toMatchObject({ status: 'DELIVERED' });
  });

  it('refuses every submission, retryable, during an outage in that country only, and recovers when told', async () => {
    const s = create({ behaviour: { countries: { GB: { outage: true } } } });
    expect(await s.send(outbound('+447400123456'))).toMatchObject({ kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'outage' });
    expect(await s.send(outbound('+14155550123'))).toMatchObject({ kind: 'accepted' });
    s.setBehaviour({});
    expect(await s.send(outbound('+447400123457'))).toMatchObject({ kind: 'accepted' });
  });

  it('reports UNDELIVERED at its delivery rate, and a behaviour set at run time applies to the next submission', async () => {
    const s = create({ behaviour: { default: { deliveryRate: 0.5 } }, random: draws(0, 0.7, 0.5) });
    await s.send(outbound('+447400123456')); // draws: submit 0 (no error: rate 0), delivery 0.7 ≥ 0.5, missing 0.5
    expect(s.parseStatusReport(await receiver.next())[0]).toMatchObject({ status: 'UNDELIVERED', errorCode: 'UNDELIVERABLE' });
    s.setBehaviour({ default: { deliveryRate: 1 } });
    await s.send(outbound('+447400123457'));
    expect(s.parseStatusReport(await receiver.next())[0]).toMatchObject({ status: 'DELIVERED' });
  });

  it('never pushes a missing report, yet its status query knows the outcome', async () => {
    const s = create({ behaviour: { default: { missingReportRate: 1 } } });
    const message = outbound('+447400123456');
    const result = await s.send(message);
    expect(result.kind).toBe('accepted');
    await s.idle();
    expect(receiver.received).toHaveLength(0);
    expect(await s.recoverOverdueReports()).toBe(0);
    if (result.kind !== 'accepted') return;
    expect(await s.queryStatus({ id: message.id, providerMessageId: result.providerMessageId, to: message.to } as never)).toMatchObject({ status: 'DELIVERED' });
  });

  it('keeps the magic endings first: …0001 is rejected even when the behaviour would refuse everything', async () => {
    const s = create({ behaviour: { default: { outage: true } } });
    expect(await s.send(outbound('+447400120001'))).toMatchObject({ kind: 'rejected', rawCode: 'destination_rejected' });
  });

  it('uses the country report delay', async () => {
    const delays: number[] = [];
    const s = create({
      behaviour: { countries: { GB: { reportDelayMs: 1234 } } },
      timers: { setTimeout: (cb, ms) => (delays.push(ms), setTimeout(cb, 1)), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
    });
    await s.send(outbound('+447400123456'));
    await s.send(outbound('+14155550123'));
    await s.idle();
    expect(delays).toEqual([1234, 1]);
  });
});

describe('SIMULATORS', () => {
  it('parses names and behaviours', () => {
    expect(parseSimulators('{"cheap":{"default":{"deliveryRate":0.99}},"backup":{}}')).toEqual({ cheap: { default: { deliveryRate: 0.99 } }, backup: {} });
    expect(parseSimulators(undefined)).toEqual({});
  });

  it.each([
    ['not json', /SIMULATORS: not valid JSON/],
    ['{"Cheap":{}}', /SIMULATORS\.Cheap: simulator names are lower-case words/],
    ['{"twilio":{}}', /SIMULATORS\.twilio: the name of a built-in provider/],
    ['{"a":{"default":{"deliveryRate":1.5}}}', /SIMULATORS\.a\.default\.deliveryRate: /],
    ['{"a":{"countries":{"gb":{}}}}', /SIMULATORS\.a\.countries\.gb: countries are ISO 3166 alpha-2 codes/],
    ['{"a":{"default":{"outage":"yes"}}}', /SIMULATORS\.a\.default\.outage: /],
    ['{"a":{"default":{"speed":1}}}', /SIMULATORS\.a\.default: Unrecognized key/],
  ])('stops the start on %s', (value, message) => {
    expect(() => loadConfig({ SIMULATORS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ SIMULATORS: value })).toThrow(message);
  });

  it('makes each simulator named in SMS_PROVIDERS a provider of its own, usable in SMS_ROUTES', () => {
    const config = loadConfig({
      SMS_PROVIDERS: 'simulator,cheap,backup',
      SIMULATORS: '{"cheap":{"default":{"deliveryRate":0.9}},"backup":{}}',
      SMS_ROUTES: '{"routes":[{"providers":["cheap","backup"],"strategy":"LEAST_COST"}]}',
    });
    const providers = createProviders({
      config,
      logger: createLogger(makeConfig({ logLevel: 'silent' })),
      publicUrl: () => 'http://127.0.0.1:1',
      simulatorSecret: 's',
      events: { statusReports: async () => {}, inbound: async () => {} },
      dispatching: false,
    });
    expect(providers.map((p) => p.name)).toEqual(['simulator', 'cheap', 'backup']);
    expect((providers[1] as SimulatorProvider).currentBehaviour).toEqual({ default: { deliveryRate: 0.9 } });
    return Promise.all(providers.map((p) => p.close?.()));
  });

  it('QUALITY_BUCKET_MS is a minute unless set, and refuses lengths outside 100 ms – 1 min', () => {
    expect(loadConfig({}).qualityBucketMs).toBe(60_000);
    expect(loadConfig({ QUALITY_BUCKET_MS: '1000' }).qualityBucketMs).toBe(1_000);
    expect(() => loadConfig({ QUALITY_BUCKET_MS: '50' })).toThrow(/QUALITY_BUCKET_MS/);
    expect(() => loadConfig({ QUALITY_BUCKET_MS: '120000' })).toThrow(/QUALITY_BUCKET_MS/);
  });

  it('refuses a provider name that neither Herald nor SIMULATORS has', () => {
    const config = loadConfig({ SMS_PROVIDERS: 'simulator,nosuch' });
    expect(() =>
      createProviders({ config, logger: createLogger(makeConfig({ logLevel: 'silent' })), publicUrl: () => 'http://127.0.0.1:1', simulatorSecret: 's', events: { statusReports: async () => {}, inbound: async () => {} }, dispatching: false }),
    ).toThrow(/SMS_PROVIDERS names "nosuch".*SIMULATORS defines more/);
  });
});

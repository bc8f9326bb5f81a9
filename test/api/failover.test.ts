// Failover end to end: Herald with Twilio (its local fake) as primary and the simulator as
// secondary. The primary answering 503 or timing out sends everything through the secondary,
// its circuit opens then closes after recovery, and a message the primary may have taken is
// never handed to the secondary without the primary's lookup saying it does not have it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getMessage, send, startDeliveryHerald, waitFor, waitForStatus, type MessageView } from '../support/delivery.js';
import { expectNoErrors, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.js';

const OPEN_MS = 3_000;
let t: TestHerald;
let twilio: TwilioFake;

async function startPair(fakeOptions: Parameters<typeof startTwilioFake>[0] = {}): Promise<void> {
  twilio = await startTwilioFake({ reportDelayMs: 5, ...fakeOptions });
  t = await startDeliveryHerald({
    providers: ['twilio', 'simulator'],
    twilio: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+15005550006', messagingServiceSid: undefined, apiBaseUrl: twilio.url },
    // Long enough that a loaded machine (the whole suite runs in parallel on 2 cores) does not
    // turn the fake's answers into timeouts: a timeout pins a message to Twilio (it may have
    // taken it), and in the 503 case that message would then wait for the outage to end.
    providerTimeoutMs: 1_500,
    routes: JSON.stringify({ circuit: { failureThreshold: 3, openMs: OPEN_MS } }),
    // Generous attempts: pinned messages wait out the primary's outage one retry at a time.
    dispatcher: { batchSize: 50, maxAttempts: 40, retryBaseMs: 50, retryMaxMs: 300, leaseMs: 10_000, pollMs: 50 },
  });
}

beforeEach(async () => {
  await startPair();
});
afterEach(async () => {
  await t.stop();
  await twilio.close();
});

async function providers(caller: GraphQLCaller): Promise<Record<string, { state: string; circuit: string; failures: number; submissions: number }>> {
  const { providers } = expectNoErrors(await caller(`{ providers { name state circuit failures submissions } }`));
  return Object.fromEntries(providers.map((p: { name: string }) => [p.name, p]));
}

/** Accepted submissions of one message at both providers (the simulator keeps a table of them). */
async function submissions(message: MessageView, body: string): Promise<{ twilio: number; simulator: number }> {
  const id = message.id.startsWith('TWVzc2FnZT') ? Buffer.from(message.id, 'base64').toString().split(':')[1]! : message.id;
  const simulator = await t.database.prisma.simulatorSubmission.count({ where: { reference: id } });
  return { twilio: twilio.messages.filter((m) => m.body === body).length, simulator };
}

async function sendMany(caller: GraphQLCaller, count: number, tag: string): Promise<{ message: MessageView; body: string }[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const body = `${tag} ${i}`;
      return { message: await send(caller, { to: `+1415555${String(1000 + i).padStart(4, '0')}`, body }), body };
    }),
  );
}

describe('failover', () => {
  it('primary answering 503: everything is delivered by the secondary; the circuit opens, then closes after recovery', async () => {
    const { sender } = await t.seedAccount();
    twilio.setMode('unavailable');
    // A first wave opens the circuit (a batch's submissions all start before the first 503
    // comes back, so the whole wave tries Twilio); the second wave, while it is open, does not.
    const firstWave = await sendMany(sender, 5, 'outage-a');
    for (const { message } of firstWave) await waitForStatus(sender, message.id, 'DELIVERED', 15_000);
    expect((await providers(sender)).twilio).toMatchObject({ state: 'DOWN', circuit: 'OPEN' });
    const triedBefore = (await providers(sender)).twilio!.submissions;
    const secondWave = await sendMany(sender, 15, 'outage-b');
    for (const { message, body } of [...firstWave, ...secondWave]) {
      const done = await waitForStatus(sender, message.id, 'DELIVERED', 15_000);
      expect(done.provider).toBe('simulator');
      expect(await submissions(message, body)).toEqual({ twilio: 0, simulator: 1 });
    }
    expect(twilio.messages).toHaveLength(0);
    // At most one half-open probe if the machine was slow enough for openMs to pass.
    expect((await providers(sender)).twilio!.submissions - triedBefore).toBeLessThanOrEqual(1);

    // Recovery: after openMs one probe goes to Twilio, succeeds, and Twilio takes traffic again.
    twilio.setMode('ok');
    await new Promise((r) => setTimeout(r, OPEN_MS));
    const [probe] = await sendMany(sender, 1, 'probe');
    expect((await waitForStatus(sender, probe!.message.id, 'DELIVERED', 15_000)).provider).toBe('twilio');
    expect((await providers(sender)).twilio).toMatchObject({ state: 'UP', circuit: 'CLOSED' });
    const after = await sendMany(sender, 5, 'recovered');
    for (const { message } of after) {
      const done = await waitForStatus(sender, message.id, 'DELIVERED', 15_000);
      expect(done.provider).toBe('twilio');
      // Delivered by Twilio's own signed StatusCallback, through /webhooks/twilio/status.
      expect(done.events.at(-1)).toMatchObject({ source: 'PROVIDER', provider: 'twilio', rawStatus: 'delivered' });
    }
  });

  it('primary timing out: the circuit opens and the rest go to the secondary; each message is submitted and delivered exactly once', async () => {
    const { sender } = await t.seedAccount();
    twilio.setMode('hang');
    const sent = await sendMany(sender, 12, 'hang');
    await waitFor(async () => (await providers(sender)).twilio!.circuit === 'OPEN', { timeoutMs: 10_000, what: 'twilio circuit open' });
    await new Promise((r) => setTimeout(r, 500));
    twilio.setMode('ok');
    for (const { message, body } of sent) {
      const done = await waitForStatus(sender, message.id, 'DELIVERED', 20_000);
      const counts = await submissions(message, body);
      expect(counts.twilio + counts.simulator, `${body}: ${JSON.stringify(counts)} via ${done.provider}`).toBe(1);
      expect(done.provider).toBe(counts.twilio ? 'twilio' : 'simulator');
    }
    // Timeouts pinned the first messages to Twilio; the others went straight to the simulator.
    expect(sent.length).toBe(12);
  });

  it('a message the primary accepted (its answer lost) is found by lookup and never sent by the secondary', async () => {
    // No delivery reports from Twilio here, so only the dispatcher's lookup can learn that
    // Twilio took the message.
    await t.stop();
    await twilio.close();
    await startPair({ autoReports: false });
    const { sender } = await t.seedAccount();
    twilio.setMode('accept-and-hang');
    const { message, body } = (await sendMany(sender, 1, 'lost-answer'))[0]!;
    await waitFor(() => twilio.messages.some((m) => m.body === body), { what: 'twilio took it' });
    twilio.setMode('ok');
    const sent = await waitForStatus(sender, message.id, 'SENT', 15_000);
    const sid = twilio.messages.find((m) => m.body === body)!.sid;
    expect(sent).toMatchObject({ provider: 'twilio', providerMessageId: sid });
    expect(await twilio.deliverReport(sid, 'delivered')).toBe(200);
    const done = await waitForStatus(sender, message.id, 'DELIVERED');
    expect(done.provider).toBe('twilio');
    expect(done.providerMessageId).toBe(twilio.messages.find((m) => m.body === body)!.sid);
    expect(await submissions(message, body)).toEqual({ twilio: 1, simulator: 0 });
    // The timeout was recorded as a retry that kept the message with Twilio.
    expect(done.events.some((e) => e.status === 'SENDING' && e.errorCode === 'TIMEOUT' && e.provider === 'twilio'), JSON.stringify(done.events)).toBe(true);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { SimulatorProvider } from '../../src/providers/simulator/simulator.js';
import { MemorySimulatorStore } from '../../src/providers/simulator/simulator-memory-store.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
});

const message = { id: '01a211aa-e67b-778c-b59f-5b55d2e20d22', to: '+14155550100', body: 'hi', segments: 1, encoding: 'GSM7' as const };

describe('simulator with a shared store (a remote provider surviving our crash)', () => {
  it('lets another process look up, deduplicate and finally report what a dead process accepted', async () => {
    receiver = await startWebhookReceiver();
    const store = new MemorySimulatorStore();
    const crashed = new SimulatorProvider({ secret: 's', publicUrl: receiver.url, store, reportDelayMs: 60_000 });
    const accepted = await crashed.send(message);
    expect(accepted.kind).toBe('accepted');
    await crashed.close(); // dies before its report timer fires
    expect(receiver.received).toHaveLength(0);

    let now = new Date();
    const survivor = new SimulatorProvider({ secret: 's', publicUrl: receiver.url, store, orphanAfterMs: 1_000, now: () => now });
    const lookedUp = await survivor.lookup(message.id);
    expect(lookedUp).toMatchObject({ found: true, rawStatus: 'accepted' });
    if (accepted.kind === 'accepted' && lookedUp.found) expect(lookedUp.providerMessageId).toBe(accepted.providerMessageId);

    // A resubmission is the same message: same id, no second report scheduled.
    expect(await survivor.send(message)).toEqual(accepted);

    // Not overdue yet: nothing is sent.
    expect(await survivor.recoverOverdueReports()).toBe(0);
    now = new Date(Date.now() + 62_000);
    expect(await survivor.recoverOverdueReports()).toBe(1);
    await survivor.idle();
    expect(receiver.received).toHaveLength(1);
    expect(survivor.parseStatusReport(receiver.received[0])).toMatchObject([{ reference: message.id, status: 'DELIVERED' }]);
    // Sent once: a second recovery finds nothing, and lookup now knows the outcome.
    expect(await survivor.recoverOverdueReports()).toBe(0);
    expect(await survivor.lookup(message.id)).toMatchObject({ found: true, rawStatus: 'delivered', status: 'DELIVERED' });
    await survivor.close();
  });
});

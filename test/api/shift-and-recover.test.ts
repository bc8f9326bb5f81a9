// The demonstration of quality-aware routing: two simulators for one country (GB), `sim-a` cheap
// and `sim-b` twice the price, behind a LEAST_COST route with the floor deliveryRate ≥ 0.95. A
// steady stream of messages goes mostly to A; A's delivery rate drops to 60 % (as an operator changes
// it: updateProvider through GraphQL, taken by the running adapter) and most new traffic moves to B within a bounded time; A recovers and wins
// its traffic back. Shares are read from what each message recorded (GraphQL Message.provider and
// routing), never from logs.
//
// Time is compressed: QUALITY_BUCKET_MS = 1 000, so the judging windows are 5 s, 60 s and 24 min
// instead of 5 min, 1 h and 24 h (docs/providers.md, "How fast routing reacts"). With the route's
// minSamples 5 and exploration 0.1, at ~20 messages a second:
// - shift: A's 5-bucket window falls under the floor once more than (1 − 0.95) / (1 − 0.6) =
//   12.5 % of its outcomes are new ones, ~0.6 s of traffic, plus the report delay (50 ms), the
//   flush (100 ms) and the read cache (100 ms): bound asserted 3 s;
// - win back: A's bad outcomes leave its 5-bucket window within 6 s, exploration gives it ~10
//   outcomes per window (≥ minSamples), plus the same lags: bound asserted 8 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorProvider } from '../../src/providers/simulator/simulator.js';
import { startDeliveryHerald, waitFor } from '../support/delivery.js';
import { expectNoErrors, type SeededAccount, type TestHerald } from '../support/herald.js';
import { mutate } from '../support/templates.js';

const SHIFT_BOUND_MS = 3_000;
const WIN_BACK_BOUND_MS = 8_000;
const PHASE_MS = { steady: 8_000, drop: 10_000, recovered: 14_000 };
const TICK_MS = 250;
const PER_TICK = 5;

let t: TestHerald;
let account: SeededAccount;
let operator: SeededAccount;

beforeAll(async () => {
  t = await startDeliveryHerald({
    providers: ['sim-a', 'sim-b'],
    simulators: { 'sim-a': {}, 'sim-b': {} },
    routes: JSON.stringify({
      routes: [{ name: 'gb', match: { countries: ['GB'] }, providers: ['sim-a', 'sim-b'], strategy: 'LEAST_COST', floors: { deliveryRate: 0.95 }, exploration: 0.1, minSamples: 5 }],
    }),
    qualityBucketMs: 1_000,
    qualityFlushMs: 100,
    simulatorReportBatchMs: 10,
  });
  account = await t.seedAccount();
  operator = await t.seedAccount('default');
  for (const [provider, pricePerSegment] of [['sim-a', '0.02'], ['sim-b', '0.04']]) {
    const set = await mutate(account.admin, `mutation($input: SetPriceInput!) { setPrice(input: $input) { __typename } }`, {
      input: { provider, country: 'GB', currency: 'GBP', pricePerSegment, effectiveFrom: '2026-01-01T00:00:00Z' },
    });
    expect(set.__typename).toBe('SetPriceSuccess');
  }
}, 30_000);
afterAll(async () => {
  await t?.stop();
});

const simulator = (name: string) => t.herald.providers.find((p) => p.name === name) as SimulatorProvider;

/** What an operator does: reads the simulator's settings, changes its behaviour, writes them back. */
async function setBehaviour(name: string, behaviour: Record<string, unknown>): Promise<void> {
  const { configuration } = expectNoErrors(await operator.admin(`{ configuration { providers { name settings } } }`));
  const settings = configuration.providers.find((p: { name: string }) => p.name === name).settings;
  const updated = await mutate(operator.admin, `mutation($input: UpdateProviderInput!) { updateProvider(name: "${name}", input: $input) { __typename ... on Error { message } } }`, {
    input: { settings: { ...settings, behaviour } },
  });
  expect(updated.__typename).toBe('UpdateProviderSuccess');
}

interface Sent {
  id: string;
  sentAt: number;
}

/** Sends PER_TICK GB messages every TICK_MS for `ms`; what was accepted, with when. */
async function stream(ms: number, into: Sent[]): Promise<void> {
  const until = Date.now() + ms;
  let n = into.length;
  while (Date.now() < until) {
    const tick = Date.now();
    // From …0100 up: never the simulator's magic endings (…0000, …0001, …0002).
    const recipients = Array.from({ length: PER_TICK }, () => ({ to: `+4474${10_000_100 + n++}` }));
    const answer = expectNoErrors(
      await account.sender(`mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename ... on SendMessagesSuccess { accepted { id } rejected { index } } } }`, {
        input: { body: 'shift and recover', recipients },
      }),
    ).sendMessages;
    expect(answer.rejected).toEqual([]);
    for (const { id } of answer.accepted) into.push({ id, sentAt: tick });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, tick + TICK_MS - Date.now())));
  }
}

/** provider and routing of every message of the account, by id, once all are final. */
async function routedMessages(expected: number): Promise<Map<string, { provider: string; status: string; explored: boolean; route: string }>> {
  const read = async () => {
    const found = new Map<string, { provider: string; status: string; explored: boolean; route: string }>();
    let after: string | null = null;
    do {
      const page: any = expectNoErrors(
        await account.sender(`query($after: String) { messages(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id provider status routing { chosen explored route } } } } }`, { after }),
      ).messages;
      for (const { node } of page.edges) found.set(node.id, { provider: node.provider, status: node.status, explored: node.routing?.explored, route: node.routing?.route });
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    return found;
  };
  return waitFor(async () => {
    const found = await read();
    const final = [...found.values()].filter((m) => ['DELIVERED', 'UNDELIVERED', 'FAILED'].includes(m.status));
    return found.size === expected && final.length === expected ? found : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500, what: 'every message final' });
}

describe('quality-aware routing, shown working', () => {
  it('sends to cheap A, moves most traffic to B within a bounded time when A drops to 60 %, and gives it back when A recovers', async () => {
    const sent: Sent[] = [];
    const a = simulator('sim-a');
    const start = Date.now();
    await stream(PHASE_MS.steady, sent);
    const dropAt = Date.now();
    await setBehaviour('sim-a', { countries: { GB: { deliveryRate: 0.6 } } });
    // Taken by the running adapter (its circuit and pending reports kept), not a new one.
    expect(simulator('sim-a')).toBe(a);
    expect(a.currentBehaviour).toEqual({ countries: { GB: { deliveryRate: 0.6 } } });
    await stream(PHASE_MS.drop, sent);
    const recoverAt = Date.now();
    await setBehaviour('sim-a', {});
    await stream(PHASE_MS.recovered, sent);

    const routed = await routedMessages(sent.length);
    const shareOf = (provider: string, from: number, to: number) => {
      const window = sent.filter((s) => s.sentAt >= from && s.sentAt < to).map((s) => routed.get(s.id)!);
      return { share: window.filter((m) => m.provider === provider).length / window.length, count: window.length };
    };
    const steady = shareOf('sim-a', start + 4_000, dropAt);
    const moved = shareOf('sim-b', dropAt + SHIFT_BOUND_MS, recoverAt);
    const wonBack = shareOf('sim-a', recoverAt + WIN_BACK_BOUND_MS, Date.now());
    const figures = { steady, moved, wonBack, messages: sent.length };
    // Every message went through the route, and each phase had traffic enough to judge by.
    expect([...routed.values()].every((m) => m.route === 'gb')).toBe(true);
    for (const phase of [steady, moved, wonBack]) expect(phase.count, JSON.stringify(figures)).toBeGreaterThanOrEqual(40);
    // Exploration (0.1) and the odd unlucky window aside, each phase's choice carries most traffic.
    expect(steady.share, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.75);
    expect(moved.share, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.75);
    expect(wonBack.share, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.75);
    // A kept a little traffic during the drop (exploration): that is how its recovery was seen.
    expect(shareOf('sim-a', dropAt + SHIFT_BOUND_MS, recoverAt).share).toBeGreaterThan(0);
  }, 120_000);
});

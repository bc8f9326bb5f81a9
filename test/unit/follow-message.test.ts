// messageStatusChanged's follower without a server: announcements come from a fake pub/sub, the
// current state and the event log from fake reads. What matters is that a missed announcement
// (Redis had not taken the SUBSCRIBE yet) delays the final status by at most a catch-up read.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MessageStatus } from '../../src/domain/status-machine.js';
import type { StatusChange } from '../../src/pubsub/pubsub.js';
import { CATCH_UP_MS, followMessage } from '../../src/schema/follow-message.js';

const ID = '0190a5d2-7c3e-7000-8000-000000000001';
const ACCOUNT = '0190a5d2-7c3e-7000-8000-0000000000aa';

/** Announcements pushed by the test; `ended` tells whether the follower let go of them. */
function announcements() {
  const queue: StatusChange[] = [];
  let wake: (() => void) | undefined;
  const state = { ended: false };
  const iterable: AsyncIterable<StatusChange> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        while (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
        return { value: queue.shift()!, done: false };
      },
      async return() {
        state.ended = true;
        return { value: undefined, done: true };
      },
    }),
  };
  return { iterable, state, announce: (status: MessageStatus) => (queue.push({ id: ID, accountId: ACCOUNT, status } as StatusChange), wake?.()) };
}

function deps(log: { id: bigint; status: MessageStatus }[], current: MessageStatus = 'SENT') {
  const feed = announcements();
  const reads: number[] = [];
  return {
    feed,
    reads,
    deps: {
      pubsub: { subscribeMessageStatus: () => feed.iterable },
      store: {
        subscriptionReads: {
          readLog: async (_id: string, after: bigint) => {
            reads.push(Date.now());
            return log.filter((e) => e.id > after);
          },
        },
      },
      prisma: {
        message: { findFirst: async () => ({ id: ID, status: current }) },
      },
    } as unknown as Parameters<typeof followMessage>[0],
  };
}

async function collect(generator: AsyncIterable<{ status: MessageStatus }>, into: MessageStatus[]) {
  for await (const t of generator) into.push(t.status);
}

describe('followMessage', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('yields the current state, then a change it was told of at once', async () => {
    const log = [{ id: 1n, status: 'SENT' as MessageStatus }];
    const { deps: d, feed } = deps(log);
    const seen: MessageStatus[] = [];
    const done = collect(followMessage(d, ACCOUNT, ID), seen);
    await vi.advanceTimersByTimeAsync(10);
    expect(seen).toEqual(['SENT']);
    log.push({ id: 2n, status: 'DELIVERED' });
    feed.announce('DELIVERED');
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(seen).toEqual(['SENT', 'DELIVERED']);
    expect(feed.state.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('finds a change whose announcement never came on the next catch-up read, however late it was written', async () => {
    const log = [{ id: 1n, status: 'SENT' as MessageStatus }];
    const { deps: d, feed, reads } = deps(log);
    const seen: MessageStatus[] = [];
    const done = collect(followMessage(d, ACCOUNT, ID), seen);
    // Written 3 s after subscribing, announced to no one (the first catch-up, at 250 ms, was too early).
    await vi.advanceTimersByTimeAsync(3_000);
    log.push({ id: 2n, status: 'DELIVERED' });
    expect(seen).toEqual(['SENT']);
    await vi.advanceTimersByTimeAsync(CATCH_UP_MS[0]! + CATCH_UP_MS[1]! + CATCH_UP_MS[2]! - 3_000);
    await done;
    expect(seen).toEqual(['SENT', 'DELIVERED']);
    // Read at 250, 1 250 and 5 250 ms: widening, not a read every 250 ms.
    expect(reads).toEqual([250, 1_250, 5_250]);
    expect(feed.state.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sees a change committed just after it read the status, when its announcement came before the listener was ready', async () => {
    // The status read says SENT, but DELIVERED is in the log by the time anything else is read.
    const log = [
      { id: 1n, status: 'QUEUED' as MessageStatus },
      { id: 2n, status: 'SENDING' as MessageStatus },
      { id: 3n, status: 'SENT' as MessageStatus },
      { id: 4n, status: 'DELIVERED' as MessageStatus },
    ];
    const { deps: d } = deps(log, 'SENT');
    const seen: MessageStatus[] = [];
    const done = collect(followMessage(d, ACCOUNT, ID), seen);
    await vi.advanceTimersByTimeAsync(CATCH_UP_MS[0]!);
    await done;
    // Nothing at or below the current status again, nothing out of order.
    expect(seen).toEqual(['SENT', 'DELIVERED']);
  });

  it('keeps reading every 30 s at most while the message is not final, and stops when the subscriber leaves', async () => {
    const { deps: d, feed, reads } = deps([{ id: 1n, status: 'SENT' }]);
    const generator = followMessage(d, ACCOUNT, ID);
    expect((await generator.next()).value).toMatchObject({ status: 'SENT' });
    const pending = generator.next();
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    const gaps = reads.map((t, i) => t - (reads[i - 1] ?? 0));
    expect(gaps.slice(0, CATCH_UP_MS.length)).toEqual(CATCH_UP_MS);
    expect(new Set(gaps.slice(CATCH_UP_MS.length))).toEqual(new Set([30_000]));
    await generator.return!(undefined);
    await expect(pending).resolves.toMatchObject({ done: true });
    expect(feed.state.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends at once for a message already final, and refuses an id that is not a message', async () => {
    const { deps: d, reads } = deps([{ id: 1n, status: 'DELIVERED' }], 'DELIVERED');
    const seen: MessageStatus[] = [];
    await collect(followMessage(d, ACCOUNT, ID), seen);
    expect(seen).toEqual(['DELIVERED']);
    expect(reads).toEqual([]);
    await expect(collect(followMessage(d, ACCOUNT, 'not-an-id'), [])).rejects.toThrow('message not found');
  });
});

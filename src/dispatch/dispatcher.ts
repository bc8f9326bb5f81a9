// The dispatcher: claims due messages, hands them to a provider, records the outcome.
//
// Delivery is at-least-once. A message is claimed with a lease (status SENDING, leaseUntil).
// If its dispatcher dies, the lease expires and another claims it; before resubmitting, it
// asks the provider by reference whether the message was already taken (lookup), and
// resubmits only when the provider does not know it or cannot say.
//
// Routing gives each message an ordered list of providers. The dispatcher tries them in turn
// (failover) only while a provider certainly did not take the message: an error answer,
// a refused connection, an open circuit. After an ambiguous failure (a timeout once the
// request was written) the message is pinned to that provider: it goes elsewhere only after
// that provider's lookup says it does not have it. Never two providers for one message.
import { randomUUID } from 'node:crypto';
import { createBackgroundLoop } from '../concurrency/background-loop.js';
import type { Logger } from '../logging/logger.js';
import { withLogContext } from '../logging/log-context.js';
import type { ProviderPool } from '../providers/provider-pool.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { ClaimedMessage, DispatchContext, DispatcherOptions, DispatchStore } from './dispatch-context.js';
import { sweepPendingReports } from './reports.js';
import { sendClaimed } from './send-claimed.js';
import type { WakeSignal } from './wake.js';

export type { DispatcherOptions } from './dispatch-context.js';

export interface DispatcherDeps {
  /** The background side of the store. */
  store: DispatchStore;
  /** The providers behind routing, circuit breakers and limits. */
  pool: ProviderPool;
  publish: (changes: StatusChange[]) => void;
  wake: WakeSignal;
  logger: Logger;
  options: DispatcherOptions;
  /** Opens the sealed bodies of messages that carry a secret (verification codes). */
  sealKey: Buffer;
  now?: () => Date;
  /** See DispatchContext.routeFacts. */
  routeFacts?: DispatchContext['routeFacts'];
}

export interface Dispatcher {
  start(): void;
  /** Stops claiming; resolves when in-flight submissions have been recorded. */
  stop(): Promise<void>;
  /** One claim-and-send round; returns how many messages it claimed. For tests and `herald worker`. */
  runOnce(): Promise<number>;
}

const PENDING_SWEEP_MS = 5_000;

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const ctx: DispatchContext = { ...deps, now: deps.now ?? (() => new Date()) };
  const owner = randomUUID();
  let lastSweep = 0;

  // Each round's log lines carry its id; each message's carry its id too (log-context.ts).
  const runOnce = (): Promise<number> => withLogContext({ dispatchRound: randomUUID().slice(0, 8) }, runRound);

  async function runRound(): Promise<number> {
    await promoteScheduled(ctx);
    const claimed = await claim(ctx, owner);
    if (claimed.length > 0) await sendBatch(ctx, claimed);
    if (Date.now() - lastSweep > PENDING_SWEEP_MS) {
      lastSweep = Date.now();
      ctx.publish(await sweepPendingReports(ctx.store));
    }
    return claimed.length;
  }

  // A full batch means more work is waiting: the next round starts at once.
  const loop = createBackgroundLoop({ name: 'dispatcher', pollMs: deps.options.pollMs, pass: async () => (await runOnce()) >= deps.options.batchSize, logger: deps.logger });
  // Listening only while started: a stopped dispatcher holds no listener, and one started
  // again (after stop()) hears wake-ups again instead of waiting for its polls.
  let unsubscribe: (() => void) | undefined;

  return {
    runOnce,
    start() {
      unsubscribe ??= deps.wake.onWake(loop.wake);
      loop.start();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      await loop.stop();
    },
  };
}

/** SCHEDULED messages whose time has come become QUEUED (the lifecycle has no shortcut). */
async function promoteScheduled(ctx: DispatchContext): Promise<void> {
  const rows = await ctx.store.queue.promoteDue(ctx.now(), ctx.options.batchSize);
  if (rows.length > 0) ctx.publish(rows.map((r) => ({ ...r, status: 'QUEUED' as const })));
}

async function claim(ctx: DispatchContext, owner: string): Promise<ClaimedMessage[]> {
  const at = ctx.now();
  const rows = await ctx.store.queue.claimDue(at, new Date(at.getTime() + ctx.options.leaseMs), owner, ctx.options.batchSize);
  const claimedAt = performance.now();
  const claimed = rows.map((r) => ({ ...r, claimedAt }));
  const fresh = claimed.filter((m) => m.previous === 'QUEUED');
  if (fresh.length > 0) ctx.publish(fresh.map((m) => ({ id: m.id, accountId: m.accountId, batchId: m.batchId, status: 'SENDING' as const })));
  return claimed;
}

/** Sends a claimed batch, its templates and senders' providers read in one query each. */
async function sendBatch(ctx: DispatchContext, claimed: ClaimedMessage[]): Promise<void> {
  const templateIds = [...new Set(claimed.map((m) => m.templateId).filter((id): id is string => id !== null))];
  const senders = [...new Set(claimed.map((m) => m.from).filter((v): v is string => v !== null))];
  const [templates, identities] = await Promise.all([ctx.store.queue.templatesOf(templateIds), ctx.store.queue.identityProvidersOf(senders)]);
  await Promise.all(
    claimed.map((m) =>
      withLogContext({ messageId: m.id }, () => sendClaimed(ctx, m, m.templateId ? templates.get(m.templateId) : undefined, m.from ? identities.get(m.from) : undefined)),
    ),
  );
}

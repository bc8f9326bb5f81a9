// The dispatcher: claims due messages, hands them to a provider, records the outcome.
//
// Delivery is at-least-once. A message is claimed with a lease (status SENDING, leaseUntil).
// If its dispatcher dies, the lease expires and another claims it; before resubmitting, it
// asks the provider by reference whether the message was already taken (lookup), and
// resubmits only when the provider does not know it or cannot say.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';
import { retryDelayMs } from '../domain/backoff.js';
import { openSealed } from '../domain/sealing.js';
import type { Encoding } from '../domain/segments.js';
import { isMessageStatus, type MessageStatus } from '../domain/status-machine.js';
import type { Logger } from '../logger.js';
import type { SendResult, SmsProvider } from '../providers/types.js';
import type { StatusChange } from '../pubsub.js';
import { changeMessage } from './message-store.js';
import { applyPendingReports, sweepPendingReports } from './reports.js';
import type { WakeSignal } from './wake.js';

export interface DispatcherOptions {
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Safety-net poll when no wake-up arrives (also how scheduled messages become due). */
  pollMs: number;
}

export interface DispatcherDeps {
  prisma: PrismaClient;
  /** Providers in routing order; the first one takes new messages. */
  providers: readonly SmsProvider[];
  publish: (changes: StatusChange[]) => void;
  wake: WakeSignal;
  logger: Logger;
  options: DispatcherOptions;
  /** Opens the sealed bodies of messages that carry a secret (verification codes). */
  sealKey: Buffer;
  now?: () => Date;
}

interface ClaimedMessage {
  id: string;
  accountId: string;
  batchId: string | null;
  to: string;
  from: string | null;
  body: string;
  segments: number;
  encoding: Encoding;
  /** The real body of a message carrying a secret; `body` then holds it masked. */
  sealedBody: Uint8Array | null;
  attempts: number;
  provider: string | null;
  /** SENDING when this claim took over an expired lease (or a retry whose backoff ran out). */
  previous: MessageStatus;
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
  const { prisma, logger, options } = deps;
  const now = deps.now ?? (() => new Date());
  const owner = randomUUID();
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  // A wake-up that arrives mid-round must not be lost until the next poll.
  let wokenDuringRound = false;
  let lastSweep = 0;

  // Listening only while started: a stopped dispatcher holds no listener, and one started
  // again (after stop()) hears wake-ups again instead of waiting for its polls.
  let unsubscribe: (() => void) | undefined;
  const onWake = () => {
    if (wakeUp) wakeUp();
    else wokenDuringRound = true;
  };

  async function runOnce(): Promise<number> {
    await promoteScheduled();
    const claimed = await claim();
    if (claimed.length > 0) await Promise.all(claimed.map((m) => dispatchOne(m)));
    if (Date.now() - lastSweep > PENDING_SWEEP_MS) {
      lastSweep = Date.now();
      deps.publish(await sweepPendingReports(prisma));
    }
    return claimed.length;
  }

  /** SCHEDULED messages whose time has come become QUEUED (the lifecycle has no shortcut). */
  async function promoteScheduled(): Promise<void> {
    const at = now();
    const rows = await prisma.$queryRaw<{ id: string; accountId: string; batchId: string | null }[]>`
      UPDATE "Message" SET status = 'QUEUED', "updatedAt" = ${at}
      WHERE id IN (SELECT id FROM "Message" WHERE status = 'SCHEDULED' AND "dueAt" <= ${at}
                   ORDER BY "dueAt" LIMIT ${options.batchSize} FOR UPDATE SKIP LOCKED)
      RETURNING id::text, "accountId"::text, "batchId"::text`;
    if (rows.length === 0) return;
    await prisma.messageEvent.createMany({ data: rows.map((r) => ({ messageId: r.id, status: 'QUEUED' as const, source: 'DISPATCHER', at })) });
    deps.publish(rows.map((r) => ({ ...r, status: 'QUEUED' as const })));
  }

  async function claim(): Promise<ClaimedMessage[]> {
    const at = now();
    const leaseUntil = new Date(at.getTime() + options.leaseMs);
    // SKIP LOCKED: concurrent dispatchers (other instances) take disjoint batches.
    const rows = await prisma.$queryRaw<(Omit<ClaimedMessage, 'previous' | 'encoding'> & { previous: string; encoding: string })[]>`
      WITH due AS (
        SELECT id, status AS previous FROM "Message"
        WHERE (status = 'QUEUED' AND "dueAt" <= ${at}) OR (status = 'SENDING' AND "leaseUntil" <= ${at})
        ORDER BY "dueAt" LIMIT ${options.batchSize}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE "Message" m
      SET status = 'SENDING', "leaseUntil" = ${leaseUntil}, "leaseOwner" = ${owner}, attempts = m.attempts + 1, "updatedAt" = ${at}
      FROM due WHERE m.id = due.id
      RETURNING m.id::text, m."accountId"::text, m."batchId"::text, m."to", m."from", m.body, m.segments,
                m.encoding::text AS encoding, m."sealedBody", m.attempts, m.provider, due.previous::text AS previous`;
    const claimed = rows.map((r) => ({
      ...r,
      encoding: r.encoding as Encoding,
      previous: isMessageStatus(r.previous) ? r.previous : 'QUEUED',
    }));
    const fresh = claimed.filter((m) => m.previous === 'QUEUED');
    if (fresh.length > 0) {
      await prisma.messageEvent.createMany({ data: fresh.map((m) => ({ messageId: m.id, status: 'SENDING' as const, source: 'DISPATCHER', at })) });
      deps.publish(fresh.map((m) => ({ id: m.id, accountId: m.accountId, batchId: m.batchId, status: 'SENDING' as const })));
    }
    return claimed;
  }

  async function dispatchOne(message: ClaimedMessage): Promise<void> {
    const provider = deps.providers[0];
    try {
      let result: SendResult | undefined;
      if (message.previous === 'SENDING' && provider.lookup) {
        // A previous attempt may have reached the provider (crash, or a timeout that was really
        // accepted): ask before sending again.
        const known = await provider.lookup(message.id, { to: message.to, since: new Date(0) });
        if (known.found) result = { kind: 'accepted', providerMessageId: known.providerMessageId, rawStatus: known.rawStatus };
      }
      result ??= await provider.send({
        id: message.id,
        to: message.to,
        from: message.from ?? undefined,
        body: message.sealedBody ? openSealed(deps.sealKey, message.sealedBody) : message.body,
        segments: message.segments,
        encoding: message.encoding,
      });
      await record(message, provider, result);
    } catch (error) {
      // Adapters return failures as values; a throw is a bug or the database going away.
      // Leave the lease to expire: the message is retried (after a lookup) by whoever claims it.
      logger.error({ err: error, messageId: message.id }, 'dispatch failed unexpectedly');
    }
  }

  async function record(message: ClaimedMessage, provider: SmsProvider, result: SendResult): Promise<void> {
    const at = now();
    const changes: StatusChange[] = [];
    switch (result.kind) {
      case 'accepted': {
        const change = await changeMessage(prisma, message.id, (m) => ({
          // A delivery report may already have moved it past SENT: then only the ids are stored.
          next: m.status === 'SENDING' ? 'SENT' : null,
          data: { provider: provider.name, providerMessageId: result.providerMessageId, sentAt: at, leaseUntil: null, errorCode: null, errorMessage: null },
          event: m.status === 'SENDING' ? { source: 'DISPATCHER', provider: provider.name, rawStatus: result.rawStatus ?? null, at } : undefined,
        }));
        if (change) changes.push(change);
        changes.push(...(await applyPendingReports(prisma, provider.name, result.providerMessageId, message.id)));
        break;
      }
      case 'rejected': {
        const change = await changeMessage(prisma, message.id, (m) => ({
          next: m.status === 'SENDING' ? 'REJECTED' : null,
          data: { provider: provider.name, errorCode: result.errorCode, errorMessage: result.message, leaseUntil: null },
          event: { source: 'DISPATCHER', provider: provider.name, rawStatus: result.rawCode, errorCode: result.errorCode, at },
        }));
        if (change) changes.push(change);
        break;
      }
      case 'retryable': {
        const exhausted = message.attempts >= options.maxAttempts;
        const delay = Math.max(result.retryAfterMs ?? 0, retryDelayMs(message.attempts, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs }));
        const change = await changeMessage(prisma, message.id, (m) => {
          if (m.status !== 'SENDING') return { next: null };
          if (exhausted) {
            return {
              next: 'FAILED',
              data: { provider: provider.name, errorCode: result.errorCode, errorMessage: `${result.message} (after ${message.attempts} attempts)`, leaseUntil: null },
              event: { source: 'DISPATCHER', provider: provider.name, rawStatus: result.rawCode ?? null, errorCode: result.errorCode, at },
            };
          }
          // Stay in SENDING (statuses never go back) and let the lease run out at the retry time:
          // the next claim is then a takeover, which looks the message up before resubmitting.
          return {
            next: null,
            data: { leaseUntil: new Date(at.getTime() + delay), errorCode: result.errorCode, errorMessage: result.message },
            event: { status: 'SENDING', source: 'DISPATCHER', provider: provider.name, rawStatus: result.rawCode ?? 'retry', errorCode: result.errorCode, at },
          };
        });
        if (change) changes.push(change);
        break;
      }
    }
    deps.publish(changes);
  }

  async function runLoop(): Promise<void> {
    while (running) {
      let claimed = 0;
      wokenDuringRound = false;
      try {
        claimed = await runOnce();
      } catch (error) {
        logger.error({ err: error }, 'dispatch round failed; retrying after the poll interval');
      }
      if (!running) break;
      if (claimed >= options.batchSize || wokenDuringRound) continue; // more work is waiting
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.pollMs);
        function done() {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve();
        }
        wakeUp = done;
      });
    }
  }

  return {
    runOnce,
    start() {
      if (running) return;
      running = true;
      unsubscribe = deps.wake.onWake(onWake);
      loop = runLoop();
    },
    async stop() {
      running = false;
      wakeUp?.();
      unsubscribe?.();
      unsubscribe = undefined;
      await loop;
    },
  };
}

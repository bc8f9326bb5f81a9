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
import type { PrismaClient } from '../db/database.js';
import { retryDelayMs } from '../domain/backoff.js';
import { openSealed } from '../domain/sealing.js';
import type { Encoding } from '../domain/segments.js';
import { isMessageStatus, type MessageStatus } from '../domain/status-machine.js';
import type { Logger } from '../logger.js';
import { metrics, providerLabel } from '../observability/metrics.js';
import { withLogContext } from '../observability/log-context.js';
import type { ProviderPool } from '../providers/provider-pool.js';
import type { LookupHint, OutboundMessage, ProviderTemplate, SendResult, SmsProvider } from '../providers/types.js';
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
  /** The providers behind routing, circuit breakers and limits. */
  pool: ProviderPool;
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
  /** Its real template variables (`variables` then holds them masked). */
  sealedVariables: Uint8Array | null;
  attempts: number;
  /** Set while SENDING only when an ambiguous failure pinned the message to this provider. */
  provider: string | null;
  templateId: string | null;
  variables: unknown;
  category: string | null;
  createdAt: Date;
  /** SENDING when this claim took over an expired lease (or a retry whose backoff ran out). */
  previous: MessageStatus;
  /** performance.now() at the claim, for the dispatch latency histogram. */
  claimedAt: number;
}

export interface Dispatcher {
  start(): void;
  /** Stops claiming; resolves when in-flight submissions have been recorded. */
  stop(): Promise<void>;
  /** One claim-and-send round; returns how many messages it claimed. For tests and `herald worker`. */
  runOnce(): Promise<number>;
}

const PENDING_SWEEP_MS = 5_000;

interface TemplateInfo {
  name: string;
  providerTemplates: Record<string, ProviderTemplate>;
}

function outbound(message: ClaimedMessage, body: string, variables: unknown, template: TemplateInfo | undefined, provider: SmsProvider): OutboundMessage {
  return {
    id: message.id,
    to: message.to,
    from: message.from ?? undefined,
    body,
    segments: message.segments,
    encoding: message.encoding,
    template: template && {
      name: template.name,
      variables: Object.fromEntries(Object.entries((variables ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
      providerTemplate: template.providerTemplates[provider.name],
    },
  };
}

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

  // Each round's log lines carry its id; each message's carry its id too (log-context.ts).
  function runOnce(): Promise<number> {
    return withLogContext({ dispatchRound: randomUUID().slice(0, 8) }, runRound);
  }

  async function runRound(): Promise<number> {
    await promoteScheduled();
    const claimed = await claim();
    if (claimed.length > 0) {
      const [templates, identities] = await Promise.all([loadTemplates(claimed), loadIdentityProviders(claimed)]);
      await Promise.all(
        claimed.map((m) =>
          withLogContext({ messageId: m.id }, () => dispatchOne(m, m.templateId ? templates.get(m.templateId) : undefined, m.from ? identities.get(m.from) : undefined)),
        ),
      );
    }
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
                m.encoding::text AS encoding, m."sealedBody", m."sealedVariables", m.attempts, m.provider, m."templateId"::text, m.variables,
                m.category::text, m."createdAt", due.previous::text AS previous`;
    const claimedAt = performance.now();
    const claimed = rows.map((r) => ({
      ...r,
      claimedAt,
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

  /** Names and provider mappings of the templates a batch uses: one query per batch. */
  async function loadTemplates(claimed: ClaimedMessage[]): Promise<Map<string, TemplateInfo>> {
    const ids = [...new Set(claimed.map((m) => m.templateId).filter((id): id is string => id !== null))];
    if (ids.length === 0) return new Map();
    const rows = await prisma.template.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, providerTemplates: true } });
    return new Map(rows.map((r) => [r.id, { name: r.name, providerTemplates: (r.providerTemplates ?? {}) as unknown as Record<string, ProviderTemplate> }]));
  }

  /** The provider each sender identity of the batch is provisioned on, where it names one. */
  async function loadIdentityProviders(claimed: ClaimedMessage[]): Promise<Map<string, string>> {
    const values = [...new Set(claimed.map((m) => m.from).filter((v): v is string => v !== null))];
    if (values.length === 0) return new Map();
    const rows = await prisma.senderIdentity.findMany({ where: { value: { in: values }, provider: { not: null } }, select: { value: true, provider: true } });
    return new Map(rows.map((r) => [r.value, r.provider!]));
  }

  async function dispatchOne(message: ClaimedMessage, template: TemplateInfo | undefined, identityProvider: string | undefined): Promise<void> {
    try {
      const body = message.sealedBody ? openSealed(deps.sealKey, message.sealedBody) : message.body;
      const variables = message.sealedVariables ? (JSON.parse(openSealed(deps.sealKey, message.sealedVariables)) as unknown) : message.variables;
      // A template-only provider needs a mapping of this template (and, for a message carrying
      // a secret, the sealed variables: its stored ones are masked).
      const canCarry = (p: SmsProvider) =>
        !p.templateOnly || (template?.providerTemplates[p.name] !== undefined && (!message.sealedBody || message.sealedVariables !== null));
      // A number or sender id provisioned on one provider can only be sent from there,
      // whatever the routing rules say.
      const bound = identityProvider ? deps.pool.get(identityProvider) : undefined;
      let route = bound
        ? [bound].filter(canCarry)
        : deps.pool.route({ to: message.to, templateName: template?.name, category: message.category }, canCarry);
      const pinned = message.previous === 'SENDING' && message.provider ? deps.pool.get(message.provider) : undefined;

      if (message.previous === 'SENDING') {
        // A previous attempt may have reached a provider (crash, or a timeout that was really
        // accepted): ask before sending again.
        const hint = { to: message.to, since: new Date(message.createdAt.getTime() - 60_000), body };
        const known = await lookUp(pinned ? [pinned] : route, message.id, hint, pinned);
        if (known === 'unknown') return await recordRetry(message, pinned!, { kind: 'retryable', errorCode: 'TIMEOUT', message: `${pinned!.name} cannot say yet whether it took the message`, maybeAccepted: true });
        if (known) return await record(message, known.provider, known.result);
        // Without a lookup, a pinned message can only go back to the provider that may have it.
        if (pinned && !pinned.lookup) route = [pinned];
      }
      if (route.length === 0) {
        return await record(message, undefined, {
          kind: 'rejected',
          errorCode: 'UNKNOWN',
          rawCode: 'NO_ROUTE',
          message: bound
            ? `sender ${message.from} is provisioned on ${bound.name}, which cannot send this message (a template-only provider needs the template mapped)`
            : template?.name
              ? `no configured provider can send template "${template.name}" (template-only providers need its mapping: setTemplateProviderMapping)`
              : 'no configured provider can send this message',
        });
      }

      let lastFailure: { provider: SmsProvider; result: Extract<SendResult, { kind: 'retryable' }> } | undefined;
      let retryInMs = Infinity;
      for (const provider of route) {
        const result = await deps.pool.submit(provider, outbound(message, body, variables, template, provider));
        if (result.kind === 'unavailable') {
          retryInMs = Math.min(retryInMs, result.retryInMs);
          continue;
        }
        observeDispatch(message, provider, result.kind);
        if (result.kind !== 'retryable') return await record(message, provider, result);
        if (result.maybeAccepted) return await recordRetry(message, provider, result);
        lastFailure = { provider, result }; // certainly not taken: try the next provider
      }
      if (lastFailure) return await recordRetry(message, lastFailure.provider, lastFailure.result, false);
      // Every provider's circuit is open (or its limits are saturated): nothing was tried, so
      // this does not use up an attempt; look again when the first circuit lets a probe through.
      await recordRetry(message, undefined, { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'every provider for this message is unavailable (circuit open or at its limit)', retryAfterMs: retryInMs }, false, true);
    } catch (error) {
      // Adapters return failures as values; a throw is a bug or the database going away.
      // Leave the lease to expire: the message is retried (after a lookup) by whoever claims it.
      logger.error({ err: error, messageId: message.id }, 'dispatch failed unexpectedly');
    }
  }

  /**
   * Asks providers whether they already have the message. `'unknown'` when the pinned
   * provider cannot be asked right now (the message must wait for it); other providers'
   * lookup failures only mean they cannot confirm (they were never sure to have it).
   */
  async function lookUp(providers: SmsProvider[], id: string, hint: LookupHint, pinned: SmsProvider | undefined) {
    for (const provider of providers) {
      if (!provider.lookup) continue;
      try {
        const known = await provider.lookup(id, hint);
        if (known.found) return { provider, result: { kind: 'accepted', providerMessageId: known.providerMessageId, rawStatus: known.rawStatus } satisfies SendResult };
      } catch (error) {
        logger.warn({ err: error, messageId: id, provider: provider.name }, 'provider lookup failed');
        if (provider === pinned) return 'unknown' as const;
      }
    }
    return undefined;
  }

  /** Claim → provider answer; only when a provider did answer (not lookups, not deferrals). */
  function observeDispatch(message: ClaimedMessage, provider: SmsProvider | undefined, outcome: string): void {
    if (!provider) return;
    const seconds = (performance.now() - message.claimedAt) / 1000;
    metrics.dispatchDuration.observe({ provider: providerLabel(provider.name), outcome }, seconds);
    // messageId and dispatchRound come from the log context (runOnce).
    logger.debug({ provider: provider.name, outcome, attempt: message.attempts, ms: Math.round(seconds * 1000) }, 'provider answered');
  }

  async function record(message: ClaimedMessage, provider: SmsProvider | undefined, result: Exclude<SendResult, { kind: 'retryable' }>): Promise<void> {
    const at = now();
    const name = provider?.name ?? null;
    const changes: StatusChange[] = [];
    if (result.kind === 'accepted') {
      const change = await changeMessage(prisma, message.id, (m) => ({
        // A delivery report may already have moved it past SENT: then only the ids are stored.
        next: m.status === 'SENDING' ? 'SENT' : null,
        data: { provider: name, providerMessageId: result.providerMessageId, sentAt: at, leaseUntil: null, errorCode: null, errorMessage: null },
        // (No acceptance event then either: the timeline ends with the report that overtook it.)
        event: m.status === 'SENDING' ? { source: 'DISPATCHER', provider: name, rawStatus: result.rawStatus ?? null, at } : undefined,
      }));
      if (change) changes.push(change);
      changes.push(...(await applyPendingReports(prisma, name!, result.providerMessageId, message.id)));
    } else {
      const change = await changeMessage(prisma, message.id, (m) => ({
        next: m.status === 'SENDING' ? 'REJECTED' : null,
        data: { provider: name, errorCode: result.errorCode, errorMessage: result.message, leaseUntil: null },
        event: { source: 'DISPATCHER', provider: name, rawStatus: result.rawCode, errorCode: result.errorCode, at },
      }));
      if (change) changes.push(change);
    }
    deps.publish(changes);
  }

  /**
   * A submission to retry later: stays SENDING with its lease running out at the retry time
   * (the next claim is a takeover, which looks the message up first), or FAILED when the
   * attempts are used up. `pin` keeps an ambiguous failure's provider on the message.
   */
  async function recordRetry(
    message: ClaimedMessage,
    provider: SmsProvider | undefined,
    result: Extract<SendResult, { kind: 'retryable' }>,
    pin = result.maybeAccepted === true,
    freeAttempt = false,
  ): Promise<void> {
    const at = now();
    const name = provider?.name ?? null;
    const exhausted = !freeAttempt && message.attempts >= options.maxAttempts;
    const backoff = retryDelayMs(message.attempts, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
    const delay = freeAttempt ? Math.min(result.retryAfterMs ?? backoff, options.retryMaxMs) : Math.max(result.retryAfterMs ?? 0, backoff);
    const change = await changeMessage(prisma, message.id, (m) => {
      if (m.status !== 'SENDING') return { next: null };
      if (exhausted) {
        return {
          next: 'FAILED',
          data: { provider: name, errorCode: result.errorCode, errorMessage: `${result.message} (after ${message.attempts} attempts)`, leaseUntil: null },
          event: { source: 'DISPATCHER', provider: name, rawStatus: result.rawCode ?? null, errorCode: result.errorCode, at },
        };
      }
      return {
        next: null,
        data: {
          leaseUntil: new Date(at.getTime() + delay),
          errorCode: result.errorCode,
          errorMessage: result.message,
          provider: pin ? name : null,
          ...(freeAttempt && { attempts: message.attempts - 1 }),
        },
        // A deferral while every circuit is open is not an attempt: it stays off the timeline
        // (which would otherwise gain an event per poll for the length of an outage).
        event: freeAttempt ? undefined : { status: 'SENDING', source: 'DISPATCHER', provider: name, rawStatus: result.rawCode ?? 'retry', errorCode: result.errorCode, at },
      };
    });
    deps.publish(change ? [change] : []);
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

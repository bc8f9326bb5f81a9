// Recording what a provider answered for a claimed message: SENT (and any reports that overtook
// the submission), REJECTED, a retry later, or FAILED once the attempts are used up.
import { retryDelayMs } from '../domain/backoff.js';
import { routingRecord } from '../domain/routing-strategy.js';
import { metrics, providerLabel } from '../metrics/metrics.js';
import type { SendResult, SmsProvider } from '../providers/types.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { ClaimedMessage, DispatchContext } from './dispatch-context.js';
import { applyPendingReports } from './reports.js';

type RetryableResult = Extract<SendResult, { kind: 'retryable' }>;

export async function record(
  ctx: DispatchContext,
  message: ClaimedMessage,
  provider: SmsProvider | undefined,
  result: Exclude<SendResult, { kind: 'retryable' }>,
): Promise<void> {
  const at = ctx.now();
  const name = provider?.name ?? null;
  const changes: StatusChange[] = [];
  if (result.kind === 'accepted') {
    const change = await ctx.store.messageStatus.change(message.id, (m) => ({
      // A delivery report may already have moved it past SENT: then only the ids are stored.
      next: m.status === 'SENDING' ? 'SENT' : null,
      data: { provider: name, providerMessageId: result.providerMessageId, sentAt: at, leaseUntil: null, errorCode: null, errorMessage: null, ...costAndRouting(message, name!) },
      // (No acceptance event then either: the timeline ends with the report that overtook it.)
      event: m.status === 'SENDING' ? { source: 'DISPATCHER', provider: name, rawStatus: result.rawStatus ?? null, at } : undefined,
    }));
    if (change) changes.push(change);
    changes.push(...(await applyPendingReports(ctx.store, name!, result.providerMessageId, message.id)));
  } else {
    const change = await ctx.store.messageStatus.change(message.id, (m) => ({
      next: m.status === 'SENDING' ? 'REJECTED' : null,
      data: { provider: name, errorCode: result.errorCode, errorMessage: result.message, leaseUntil: null },
      event: { source: 'DISPATCHER', provider: name, rawStatus: result.rawCode, errorCode: result.errorCode, at },
    }));
    if (change) changes.push(change);
  }
  ctx.publish(changes);
}

/**
 * A submission to retry later: stays SENDING with its lease running out at the retry time
 * (the next claim is a takeover, which looks the message up first), or FAILED when the
 * attempts are used up. `pin` keeps an ambiguous failure's provider on the message.
 */
export async function recordRetry(
  ctx: DispatchContext,
  message: ClaimedMessage,
  provider: SmsProvider | undefined,
  result: RetryableResult,
  pin = result.maybeAccepted === true,
  freeAttempt = false,
): Promise<void> {
  const { options } = ctx;
  const at = ctx.now();
  const name = provider?.name ?? null;
  const exhausted = !freeAttempt && message.attempts >= options.maxAttempts;
  const backoff = retryDelayMs(message.attempts, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
  const delay = freeAttempt ? Math.min(result.retryAfterMs ?? backoff, options.retryMaxMs) : Math.max(result.retryAfterMs ?? 0, backoff);
  const change = await ctx.store.messageStatus.change(message.id, (m) => {
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
  ctx.publish(change ? [change] : []);
}

/** Claim → provider answer; only when a provider did answer (not lookups, not deferrals). */
export function observeDispatch(ctx: DispatchContext, message: ClaimedMessage, provider: SmsProvider | undefined, outcome: string): void {
  if (!provider) return;
  const seconds = (performance.now() - message.claimedAt) / 1000;
  metrics.dispatchDuration.observe({ provider: providerLabel(provider.name), outcome }, seconds);
  // messageId and dispatchRound come from the log context (dispatcher.ts: runOnce).
  ctx.logger.debug({ provider: provider.name, outcome, attempt: message.attempts, ms: Math.round(seconds * 1000) }, 'provider answered');
}

/** The estimated cost with the provider that took the message, and why it was chosen. */
function costAndRouting(message: ClaimedMessage, provider: string) {
  if (!message.routing) return {};
  const cost = message.routing.candidates.find((c) => c.provider === provider)?.cost ?? null;
  return {
    estimatedCostMicros: cost ? String(cost.micros) : null,
    costCurrency: cost?.currency ?? null,
    routing: JSON.stringify(routingRecord(message.routing, provider)),
  };
}

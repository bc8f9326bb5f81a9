// Sending one claimed message: choose its route, ask first when a previous attempt may have
// reached a provider, then try the route's providers in turn (failover) while a provider
// certainly did not take it. See dispatcher.ts for the delivery guarantees this keeps.
import { openSealed } from '../domain/sealing.js';
import type { LookupHint, OutboundMessage, SendResult, SmsProvider } from '../providers/types.js';
import type { TemplateInfo } from '../store/dispatch-queue.js';
import { unknownFacts, type ClaimedMessage, type DispatchContext } from './dispatch-context.js';
import { observeDispatch, record, recordRetry } from './record-outcome.js';

export async function sendClaimed(ctx: DispatchContext, message: ClaimedMessage, template: TemplateInfo | undefined, identityProvider: string | undefined): Promise<void> {
  try {
    const body = message.sealedBody ? openSealed(ctx.sealKey, message.sealedBody) : message.body;
    const variables = message.sealedVariables ? (JSON.parse(openSealed(ctx.sealKey, message.sealedVariables)) as unknown) : message.variables;
    // A template-only provider needs a mapping of this template (and, for a message carrying
    // a secret, the sealed variables: its stored ones are masked).
    const canCarry = (p: SmsProvider) =>
      !p.templateOnly || (template?.providerTemplates[p.name] !== undefined && (!message.sealedBody || message.sealedVariables !== null));
    // A number or sender id provisioned on one provider can only be sent from there,
    // whatever the routing rules say.
    const bound = identityProvider ? ctx.pool.get(identityProvider) : undefined;
    let route = [bound].filter((p): p is SmsProvider => p !== undefined && canCarry(p));
    const facts = (names: readonly string[], minSamples?: number) => (ctx.routeFacts ? ctx.routeFacts(message, names, minSamples) : Promise.resolve(unknownFacts(names)));
    if (!bound) {
      const chosen = await ctx.pool.choose({ to: message.to, templateName: template?.name, category: message.category }, canCarry, facts);
      route = chosen.providers;
      message.routing = chosen.decision;
    } else if (route.length > 0) {
      // No choice to make, but the cost and the reason are recorded all the same.
      const candidates = (await facts([bound.name])).map((f) => ({ ...f, eligible: true }));
      const summary = `PRIORITY: ${bound.name}; the sender identity is provisioned there`;
      message.routing = { route: null, strategy: 'PRIORITY', order: [bound.name], explored: false, summary, candidates };
    }
    const pinned = message.previous === 'SENDING' && message.provider ? ctx.pool.get(message.provider) : undefined;

    if (message.previous === 'SENDING') {
      // A previous attempt may have reached a provider (crash, or a timeout that was really
      // accepted): ask before sending again.
      const hint = { to: message.to, since: new Date(message.createdAt.getTime() - 60_000), body };
      const known = await lookUp(ctx, pinned ? [pinned] : route, message.id, hint, pinned);
      if (known === 'unknown') return await recordRetry(ctx, message, pinned!, { kind: 'retryable', errorCode: 'TIMEOUT', message: `${pinned!.name} cannot say yet whether it took the message`, maybeAccepted: true });
      if (known) return await record(ctx, message, known.provider, known.result);
      // Without a lookup, a pinned message can only go back to the provider that may have it.
      if (pinned && !pinned.lookup) route = [pinned];
    }
    if (route.length === 0) return await record(ctx, message, undefined, noRoute(message, bound, template));
    await submitAlong(ctx, message, route, (provider) => outbound(message, body, variables, template, provider));
  } catch (error) {
    // Adapters return failures as values; a throw is a bug or the database going away.
    // Leave the lease to expire: the message is retried (after a lookup) by whoever claims it.
    ctx.logger.error({ err: error, messageId: message.id }, 'dispatch failed unexpectedly');
  }
}

/** Tries the route's providers in turn and records the outcome. */
async function submitAlong(ctx: DispatchContext, message: ClaimedMessage, route: SmsProvider[], outboundFor: (provider: SmsProvider) => OutboundMessage): Promise<void> {
  let lastFailure: { provider: SmsProvider; result: Extract<SendResult, { kind: 'retryable' }> } | undefined;
  let retryInMs = Infinity;
  for (const provider of route) {
    const result = await ctx.pool.submit(provider, outboundFor(provider));
    if (result.kind === 'unavailable') {
      retryInMs = Math.min(retryInMs, result.retryInMs);
      continue;
    }
    observeDispatch(ctx, message, provider, result.kind);
    if (result.kind !== 'retryable') return await record(ctx, message, provider, result);
    if (result.maybeAccepted) return await recordRetry(ctx, message, provider, result);
    lastFailure = { provider, result }; // certainly not taken: try the next provider
  }
  if (lastFailure) return await recordRetry(ctx, message, lastFailure.provider, lastFailure.result, false);
  // Every provider's circuit is open (or its limits are saturated): nothing was tried, so
  // this does not use up an attempt; look again when the first circuit lets a probe through.
  await recordRetry(ctx, message, undefined, { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'every provider for this message is unavailable (circuit open or at its limit)', retryAfterMs: retryInMs }, false, true);
}

/**
 * Asks providers whether they already have the message. `'unknown'` when the pinned
 * provider cannot be asked right now (the message must wait for it); other providers'
 * lookup failures only mean they cannot confirm (they were never sure to have it).
 */
async function lookUp(ctx: DispatchContext, providers: SmsProvider[], id: string, hint: LookupHint, pinned: SmsProvider | undefined) {
  for (const provider of providers) {
    if (!provider.lookup) continue;
    try {
      const known = await provider.lookup(id, hint);
      if (known.found) return { provider, result: { kind: 'accepted', providerMessageId: known.providerMessageId, rawStatus: known.rawStatus } satisfies SendResult };
    } catch (error) {
      ctx.logger.warn({ err: error, messageId: id, provider: provider.name }, 'provider lookup failed');
      if (provider === pinned) return 'unknown' as const;
    }
  }
  return undefined;
}

function noRoute(message: ClaimedMessage, bound: SmsProvider | undefined, template: TemplateInfo | undefined): Extract<SendResult, { kind: 'rejected' }> {
  return {
    kind: 'rejected',
    errorCode: 'UNKNOWN',
    rawCode: 'NO_ROUTE',
    message: bound
      ? `sender ${message.from} is provisioned on ${bound.name}, which cannot send this message (a template-only provider needs the template mapped)`
      : template?.name
        ? `no configured provider can send template "${template.name}" (template-only providers need its mapping: setTemplateProviderMapping)`
        : 'no configured provider can send this message',
  };
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

import { GraphQLError } from 'graphql';
import type { Message as MessageRow } from '../generated/prisma/client.js';
import type { InboundReceived, StatusChange } from '../pubsub/pubsub.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { followMessage, type Transition } from './follow-message.js';
import { decodeId } from './global-id.js';
import { InboundMessage } from './inbound.js';
import { Message, MessageStatusEnum } from './messages.js';

builder.subscriptionType({});

const MessageEventFilter = builder.inputType('MessageEventFilter', {
  fields: (t) => ({
    status: t.field({ type: [MessageStatusEnum], required: false, description: 'Only transitions into these statuses.' }),
    batchId: t.id({ required: false }),
  }),
});

// Each payload is loaded with the subscriber's own selection, then shows the status of the
// transition being reported even if the message has moved on since. Loads asked for in the same
// turn of the event loop with the same selection (one status event reaches many subscribers at
// once) share one query (store/subscription-reads.ts); each subscriber still only gets a message
// of its own account.
const loadTransition =
  (ctx: Context, query: object) =>
  async ({ id, status }: Transition) => {
    const message = await ctx.store.subscriptionReads.loadMessage(query, id, ctx.auth.accountId);
    return message && { ...message, status };
  };

builder.subscriptionFields((t) => ({
  messageStatusChanged: t.prismaField({
    type: Message,
    description:
      "Yields the message's current state first, then each transition in order; completes after a final status. " +
      "Another account's message id is NOT_FOUND.",
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => followMessage(ctx, ctx.auth.accountId, String(args.id)),
    resolve: (query, transition: Transition, _args, ctx) => loadTransition(ctx, query)(transition).then(orThrowGone),
  }),
  messageEvents: t.prismaField({
    type: Message,
    description: "Every status transition of the account's messages, as it happens.",
    args: { filter: t.arg({ type: MessageEventFilter, required: false }) },
    subscribe: (_root, args, ctx) => {
      const statuses = args.filter?.status?.length ? new Set(args.filter.status) : undefined;
      const batchId = args.filter?.batchId ? decodeId(args.filter.batchId, 'Batch', String(args.filter.batchId)) : undefined;
      const keep = (c: StatusChange) => (!statuses || statuses.has(c.status)) && (!batchId || c.batchId === batchId);
      return withMessages(ctx, ctx.pubsub.subscribeStatus(ctx.auth.accountId, keep));
    },
    resolve: (query, transition: Transition & { row?: MessageRow | null }, _args, ctx) =>
      transition.row !== undefined && scalarsOnly(query)
        ? Promise.resolve(orThrowGone(transition.row && { ...transition.row, status: transition.status }))
        : loadTransition(ctx, query)(transition).then(orThrowGone),
  }),
  inboundMessageReceived: t.prismaField({
    type: InboundMessage,
    description: "Every message received on the account's numbers, as it is stored.",
    subscribe: (_root, _args, ctx) => ctx.pubsub.subscribeInbound(ctx.auth.accountId),
    resolve: (query, event: InboundReceived, _args, ctx) =>
      ctx.prisma.inboundMessage.findFirst({ ...query, where: { id: event.id, accountId: ctx.auth.accountId } }).then(orThrowGone),
  }),
}));

function orThrowGone<T>(value: T | null): T {
  if (!value) throw new GraphQLError('message not found', { extensions: { code: 'NOT_FOUND' } });
  return value;
}

// A subscriber gets its events one at a time (graphql-js resolves each before taking the next),
// so a load per event caps a subscriber at one query round trip per event: under a burst of
// thousands of deliveries it fell behind until its buffer dropped events. Here the changes that
// are already waiting are taken together and their messages read in one query; the resolver
// uses those rows when the selection has no relations (the common `{ id status … }`).
const PREFETCH_MAX = 500;

async function* withMessages(ctx: Context, source: AsyncIterable<StatusChange>): AsyncGenerator<Transition & { row: MessageRow | null | undefined }> {
  const changes = source[Symbol.asyncIterator]();
  let waiting: Promise<IteratorResult<StatusChange>> | undefined;
  try {
    for (;;) {
      const first = await (waiting ?? changes.next());
      waiting = undefined;
      if (first.done) return;
      const batch = [first.value];
      let ended = false;
      while (batch.length < PREFETCH_MAX) {
        waiting = changes.next();
        // Buffered changes resolve within microtasks; one that is not there yet loses to the
        // next macrotask and stays `waiting` for the next round.
        const ready = await Promise.race([waiting, new Promise<null>((resolve) => setImmediate(resolve, null))]);
        if (ready === null) break;
        waiting = undefined;
        if (ready.done) {
          ended = true;
          break;
        }
        batch.push(ready.value);
      }
      // A failed read (the database restarting) must not end the subscription: those events
      // then load one by one in the resolver, which reports a failure on that event only.
      const rows = await ctx.prisma.message
        .findMany({ where: { id: { in: [...new Set(batch.map((c) => c.id))] }, accountId: ctx.auth.accountId } })
        .catch(() => undefined);
      const byId = new Map(rows?.map((row) => [row.id, row]));
      for (const change of batch) yield { id: change.id, status: change.status, row: rows ? (byId.get(change.id) ?? null) : undefined };
      if (ended) return;
    }
  } finally {
    await changes.return?.();
  }
}

/** Whether a Pothos query asks for scalar columns only (a full row then answers it). */
function scalarsOnly(query: { include?: object; select?: Record<string, unknown> }): boolean {
  if (query.include && Object.keys(query.include).length > 0) return false;
  return !query.select || Object.values(query.select).every((v) => v === true);
}

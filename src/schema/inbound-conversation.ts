// conversation(phone): both directions of an account's exchange with one number, newest first.
import { GraphQLError } from 'graphql';
import { normalizePhoneNumber } from '../domain/phone.js';
import type { InboundMessage as InboundMessageRow, Message as MessageRow } from '../generated/prisma/client.js';
import {
  decodeConversationCursor,
  encodeConversationCursor,
  loadConversation,
  type ConversationItem as Item,
} from '../services/inbound-conversation.js';
import { builder } from './builder.js';
import { InboundMessage, MessageDirectionEnum } from './inbound.js';
import { Message } from './messages.js';

const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

// Message is defined with the send path (messages.ts); its direction belongs to this concept,
// so it is added here, next to InboundMessage's, for clients reading a conversation.
builder.objectField(Message, 'direction', (t) =>
  t.field({ type: MessageDirectionEnum, description: 'Always OUTBOUND.', resolve: () => 'OUTBOUND' as const }),
);

const ConversationItem = builder.unionType('ConversationItem', {
  description: 'A message of a conversation: sent (Message, OUTBOUND) or received (InboundMessage, INBOUND).',
  types: [Message, InboundMessage],
  resolveType: (item: MessageRow | InboundMessageRow) => ('receivedAt' in item ? InboundMessage : Message),
});

const ConversationEdge = builder.objectRef<Item>('ConversationEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (item) => encodeConversationCursor(item) }),
    direction: t.field({ type: MessageDirectionEnum, resolve: (item) => item.direction }),
    at: t.field({
      type: 'DateTime',
      description: 'When Herald accepted (OUTBOUND) or stored (INBOUND) it: the order of the conversation.',
      resolve: (item) => item.at,
    }),
    node: t.field({ type: ConversationItem, resolve: (item) => item.message }),
  }),
});

interface ConversationShape {
  edges: Item[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

const ConversationConnection = builder.objectRef<ConversationShape>('ConversationConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [ConversationEdge], resolve: (c) => c.edges }),
    pageInfo: t.field({
      type: builder.pageInfoRef(),
      resolve: (c) => ({
        hasNextPage: c.hasNextPage,
        hasPreviousPage: c.hasPreviousPage,
        startCursor: c.edges[0] && encodeConversationCursor(c.edges[0]),
        endCursor: c.edges.at(-1) && encodeConversationCursor(c.edges.at(-1)!),
      }),
    }),
  }),
});

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

builder.queryFields((t) => ({
  conversation: t.field({
    type: ConversationConnection,
    description:
      "Both directions of the account's exchange with one number, newest first: messages sent to it and messages received from it. " +
      'Pages continue correctly across both kinds (`after` = an edge cursor).',
    args: {
      phone: t.arg.string({ required: true, description: 'The other party, in any format; matched after normalisation.' }),
      first: t.arg.int({ required: false, description: `Page size, ${DEFAULT_PAGE} by default, at most ${MAX_PAGE}.` }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? DEFAULT_PAGE;
      if (first < 0 || first > MAX_PAGE) throw badInput(`first must be between 0 and ${MAX_PAGE}`);
      const after = args.after ? decodeConversationCursor(args.after) : undefined;
      if (args.after && !after) throw badInput('after is not a cursor of this connection');
      const phone = normalizePhoneNumber(args.phone, ctx.config.defaultCountry as never);
      const page = await loadConversation(ctx.prisma, ctx.auth.accountId, phone.ok ? phone.e164 : args.phone.trim(), { first, after });
      return { edges: page.items, hasNextPage: page.hasNextPage, hasPreviousPage: !!after };
    },
  }),
}));

// Shared by the inbound API tests (replies, keywords, sender identities): GraphQL documents,
// signed simulator inbound webhooks, and phone numbers no other test file uses.
import { expect } from 'vitest';
import { postWebhook, simulatorSecret } from '../support/delivery.js';
import { expectNoErrors, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { mutate } from '../support/templates.js';

export const INBOUND_PATH = '/webhooks/simulator/inbound';

/**
 * Fresh, valid US numbers in a block of their own (`+1415555B001`, `…B002`, …). Sender identities
 * are unique across accounts, and API test files share one PostgreSQL database, so each file
 * takes its own block.
 */
export function numberPool(block: number): () => string {
  let next = 0;
  return () => `+1415555${block}${String(++next).padStart(3, '0')}`;
}

export const INBOUND_FIELDS = /* GraphQL */ `
  id from to body receivedAt createdAt provider providerMessageId keyword direction inReplyTo { id body }
`;

const ERRORS = '... on Error { code message } ... on ValidationError { issues { path message } }';

export const ADD_IDENTITY = /* GraphQL */ `
  mutation Add($value: String!, $provider: String, $isDefault: Boolean) {
    addSenderIdentity(value: $value, provider: $provider, isDefault: $isDefault) {
      __typename
      ... on AddSenderIdentitySuccess { data { id value kind provider isDefault createdAt } }
      ${ERRORS}
    }
  }
`;

export const REMOVE_IDENTITY = /* GraphQL */ `
  mutation Remove($id: ID!) {
    removeSenderIdentity(id: $id) { __typename ... on RemoveSenderIdentitySuccess { data } ... on Error { code message } }
  }
`;

export const LIST_IDENTITIES = /* GraphQL */ `{ senderIdentities { id value kind provider isDefault } }`;

export const SIMULATE_INBOUND = /* GraphQL */ `
  mutation Simulate($from: String!, $to: String!, $body: String!) {
    simulateInboundMessage(from: $from, to: $to, body: $body) {
      __typename
      ... on SimulateInboundMessageSuccess { data { ${INBOUND_FIELDS} } }
      ${ERRORS}
      ... on InvalidPhoneNumberError { input }
    }
  }
`;

export const INBOUND_MESSAGES = /* GraphQL */ `
  query Inbound($first: Int, $after: String, $from: String) {
    inboundMessages(first: $first, after: $after, from: $from) {
      edges { cursor node { ${INBOUND_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const CONVERSATION = /* GraphQL */ `
  query Conversation($phone: String!, $first: Int, $after: String) {
    conversation(phone: $phone, first: $first, after: $after) {
      edges {
        cursor direction at
        node {
          __typename
          ... on Message { id direction to from body status }
          ... on InboundMessage { id direction from to body keyword inReplyTo { id } }
        }
      }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

export const INBOUND_RECEIVED = /* GraphQL */ `
  subscription { inboundMessageReceived { ${INBOUND_FIELDS} } }
`;

/** Adds a sender identity with the ADMIN caller; fails the test unless it succeeded. */
export async function addIdentity(admin: GraphQLCaller, value: string, extra: { provider?: string; isDefault?: boolean } = {}): Promise<any> {
  const result = await mutate(admin, ADD_IDENTITY, { value, ...extra });
  expect(result.__typename, JSON.stringify(result)).toBe('AddSenderIdentitySuccess');
  return result.data;
}

/** POSTs an inbound payload (object or array), signed with the simulator's real secret unless `secret` is given. */
export async function postInbound(
  t: TestHerald,
  payload: unknown,
  options: { secret?: string; signedAt?: Date } = {},
): Promise<{ status: number; json: any }> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return postWebhook(t, { path: INBOUND_PATH, body, secret: options.secret ?? (await simulatorSecret(t)), signedAt: options.signedAt });
}

export async function inboundMessages(caller: GraphQLCaller, variables: { first?: number; after?: string; from?: string } = {}): Promise<any[]> {
  return expectNoErrors(await caller(INBOUND_MESSAGES, { first: 100, ...variables })).inboundMessages.edges.map((e: any) => e.node);
}

export async function conversationPage(caller: GraphQLCaller, variables: { phone: string; first?: number; after?: string }): Promise<any> {
  return expectNoErrors(await caller(CONVERSATION, variables)).conversation;
}

/** The whole conversation, page by page of `pageSize`, as [direction, body] pairs. */
export async function wholeConversation(caller: GraphQLCaller, phone: string, pageSize = 100): Promise<[string, string][]> {
  const items: [string, string][] = [];
  let after: string | undefined;
  for (let page = 0; page < 100; page++) {
    const connection = await conversationPage(caller, { phone, first: pageSize, after });
    items.push(...connection.edges.map((e: any) => [e.direction, e.node.body] as [string, string]));
    if (!connection.pageInfo.hasNextPage) return items;
    after = connection.pageInfo.endCursor;
  }
  throw new Error('conversation did not end within 100 pages');
}

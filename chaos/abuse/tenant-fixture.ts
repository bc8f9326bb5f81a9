// Account A's "one of everything", made through the public API with A's keys, and the ids and
// secret words that must never show up in account B's answers.
import { randomBytes } from 'node:crypto';
import { graphql } from './herald.js';

export interface TenantA {
  /** Unique words inside A's bodies, names and texts. */
  secret: string;
  ids: Record<string, string>;
  phones: { recipient: string; optedOut: string; sender: string; verified: string };
}

type Call = (query: string, variables?: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** A GraphQL caller that throws unless the answer has data and no errors. */
export function caller(url: string, key: string): Call {
  return async (query, variables) => {
    const answer = await graphql(url, key, query, variables);
    if (answer.status !== 200 || answer.json?.errors || !answer.json?.data) throw new Error(`${query.slice(0, 80)} → ${answer.status} ${answer.body.slice(0, 300)}`);
    return answer.json.data;
  };
}

function success<T>(data: Record<string, unknown>, field: string): T {
  const result = data[field] as { __typename: string } & Record<string, unknown>;
  if (!result.__typename.endsWith('Success')) throw new Error(`${field}: ${JSON.stringify(result)}`);
  return result as T;
}

const ERR = '... on Error { code message }';

export async function createTenantA(url: string, adminKey: string): Promise<TenantA> {
  const admin = caller(url, adminKey);
  const secret = `zqA${randomBytes(6).toString('hex')}`;
  const phones = { recipient: '+8613800138123', optedOut: '+8613800138999', sender: '+14155550111', verified: '+8613800138124' };
  const ids: Record<string, string> = {};
  const id = async (name: string, field: string, query: string, variables: Record<string, unknown>, pick: (s: Record<string, unknown>) => unknown = (s) => (s.data as { id: string }).id) => {
    ids[name] = String(pick(success(await admin(query, variables), field)));
  };

  // A price (removePrice takes its id; B must not remove or read it).
  await id('price', 'setPrice', `mutation($i: SetPriceInput!) { setPrice(input: $i) { __typename ... on SetPriceSuccess { data { id } } ${ERR} } }`, {
    i: { provider: 'simulator', country: 'CN', currency: 'CNY', pricePerSegment: '0.045' },
  });
  await id('senderIdentity', 'addSenderIdentity', `mutation($v: String!) { addSenderIdentity(value: $v) { __typename ... on AddSenderIdentitySuccess { data { id } } ${ERR} } }`, { v: phones.sender });
  const createTemplate = `mutation($i: CreateTemplateInput!) { createTemplate(input: $i) { __typename ... on CreateTemplateSuccess { data { id } } ${ERR} } }`;
  await id('templateApproved', 'createTemplate', createTemplate, { i: { name: `${secret} approved`, body: `Hello {{name}} ${secret}`, category: 'NOTIFICATION' } });
  await id('templatePending', 'createTemplate', createTemplate, { i: { name: `${secret} pending`, body: `Pending {{name}} ${secret}`, category: 'NOTIFICATION' } });
  await id('templateDraft', 'createTemplate', createTemplate, { i: { name: `${secret} draft`, body: `Draft {{name}} ${secret}`, category: 'NOTIFICATION' } });
  for (const t of [ids.templateApproved, ids.templatePending]) success(await admin(`mutation($id: ID!) { submitTemplate(id: $id) { __typename ${ERR} } }`, { id: t }), 'submitTemplate');
  success(await admin(`mutation($id: ID!) { reviewTemplate(id: $id, approve: true) { __typename ${ERR} } }`, { id: ids.templateApproved }), 'reviewTemplate');
  // The approved template after review may be a new row; read its current id by name.
  const sendMessage = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { __typename ... on SendMessageSuccess { data { id } } ${ERR} } }`;
  await id('message', 'sendMessage', sendMessage, { i: { to: phones.recipient, body: `Body ${secret}`, metadata: { secret } } });
  await id('scheduledMessage', 'sendMessage', sendMessage, { i: { to: phones.recipient, body: `Later ${secret}`, scheduledAt: new Date(Date.now() + 86_400_000).toISOString() } });
  await id('templateMessage', 'sendMessage', sendMessage, { i: { to: phones.recipient, templateId: ids.templateApproved, variables: { name: secret } } });
  await id('batch', 'sendMessages', `mutation($i: SendMessagesInput!) { sendMessages(input: $i) { __typename ... on SendMessagesSuccess { batchId } ${ERR} } }`, { i: { body: `Batch ${secret}`, recipients: [{ to: '+8613800138125' }, { to: '+8613800138126' }] } }, (s) => s.batchId);
  success(await admin(`mutation($p: String!) { addOptOut(phone: $p) { __typename ${ERR} } }`, { p: phones.optedOut }), 'addOptOut');
  success(await admin(`mutation($w: String!) { addSensitiveWordRule(kind: BLOCK, word: $w) { __typename ${ERR} } }`, { w: secret }), 'addSensitiveWordRule');
  await id('inbound', 'simulateInboundMessage', `mutation($f: String!, $t: String!, $b: String!) { simulateInboundMessage(from: $f, to: $t, body: $b) { __typename ... on SimulateInboundMessageSuccess { data { id } } ${ERR} } }`, { f: phones.recipient, t: phones.sender, b: `Reply ${secret}` });
  await id('verification', 'startVerification', `mutation($i: StartVerificationInput!) { startVerification(input: $i) { __typename ... on StartVerificationSuccess { data { id } } ${ERR} } }`, { i: { to: phones.verified } });
  await id('apiKey', 'createApiKey', `mutation($n: String!) { createApiKey(name: $n, role: SENDER) { __typename ... on CreateApiKeySuccess { data { apiKey { id } } } ${ERR} } }`, { n: `${secret} key` }, (s) => (s.data as { apiKey: { id: string } }).apiKey.id);
  // A webhook endpoint (its URL carries the secret word: B must never see it).
  await id(
    'webhookEndpoint',
    'createWebhookEndpoint',
    `mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { __typename ... on CreateWebhookEndpointSuccess { data { endpoint { id } } } ${ERR} } }`,
    { i: { url: `http://127.0.0.1:9/${secret}`, eventTypes: ['MESSAGE_STATUS_CHANGED'], description: `${secret} hook` } },
    (s) => (s.data as { endpoint: { id: string } }).endpoint.id,
  );
  // One of its deliveries (retryWebhookDelivery takes its id): a message whose status changes
  // once every process sees the endpoint (the outbox caches an account's endpoints for 2 s).
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  success(await admin(`mutation($i: SendMessageInput!) { sendMessage(input: $i) { __typename ${ERR} } }`, { i: { to: '+8613800138127', body: "Hooked" } }), 'sendMessage');
  const deadline = Date.now() + 15_000;
  while (!ids.webhookDelivery) {
    const page = (await admin(`query($id: ID!) { webhookDeliveries(endpointId: $id, first: 1) { edges { node { id } } } }`, { id: ids.webhookEndpoint })) as {
      webhookDeliveries?: { edges: { node: { id: string } }[] };
    };
    const found = page.webhookDeliveries?.edges[0]?.node.id;
    if (found) ids.webhookDelivery = found;
    else if (Date.now() > deadline) throw new Error(`tenant A: no webhook delivery was recorded within 15 s: ${JSON.stringify(page)}`);
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { secret, ids, phones };
}

// What account B tries with account A's ids and numbers: every query, node(id), list filter and
// mutation. Each probe names the root fields it exercises, so the scenario can check that every
// operation of the schema that takes an ID (directly or inside an input) has a probe.
import {
  getNamedType,
  isInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { TenantA } from './tenant-fixture.js';

export interface Probe {
  /** Root fields exercised, as `Query.message`, `Mutation.cancelMessage`. */
  covers: string[];
  query: string;
  variables?: Record<string, unknown>;
}

const ERR = '__typename ... on Error { code message }';
const MESSAGE = 'id to body status metadata variables batchId template { id name body } events { status }';

/** Root fields (`Type.field`) with an argument of type ID, directly or inside an input object. */
export function operationsTakingAnId(schema: GraphQLSchema): string[] {
  const hasId = (type: GraphQLInputType, seen = new Set<string>()): boolean => {
    const named = getNamedType(type);
    if (named.name === 'ID') return true;
    if (!isInputObjectType(named) || seen.has(named.name)) return false;
    seen.add(named.name);
    return Object.values(named.getFields()).some((f) => hasId(f.type, seen));
  };
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t) => t != null);
  return roots.flatMap((root) => Object.values(root.getFields()).filter((f) => f.args.some((a) => hasId(a.type))).map((f) => `${root.name}.${f.name}`));
}

/** The uuid inside a Relay global id (or the id itself when it is not one). */
export function rawId(id: string): string {
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  const match = /^[A-Za-z]+:([0-9a-f-]{36})$/i.exec(decoded);
  return match ? match[1]! : id;
}

export function buildProbes(a: TenantA, globalIds: string[]): Probe[] {
  const { ids, phones, secret } = a;
  const probes: Probe[] = [];
  for (const id of [...new Set([...Object.values(ids), ...Object.values(ids).map(rawId), ...globalIds])]) {
    probes.push({ covers: ['Query.node'], query: `query($id: ID!) { node(id: $id) { __typename id ... on Message { ${MESSAGE} } ... on Template { name body } ... on InboundMessage { body from } ... on Verification { to verificationStatus: status } ... on SenderIdentity { value } ... on ApiKey { name } ... on Batch { total } ... on WebhookEndpoint { url description } } }`, variables: { id } });
  }
  // Each id in both forms the API accepts: the Relay global id it hands out, and the raw uuid.
  const anyId = (names: string[]) => names.flatMap((n) => [...new Set([ids[n]!, rawId(ids[n]!)])]);
  for (const id of anyId(['message', 'scheduledMessage', 'templateMessage'])) {
    probes.push({ covers: ['Query.message'], query: `query($id: ID!) { message(id: $id) { ${MESSAGE} } }`, variables: { id } });
  }
  for (const id of anyId(['templateApproved', 'templatePending', 'templateDraft'])) {
    probes.push({ covers: ['Query.template'], query: `query($id: ID!) { template(id: $id) { id name body status } }`, variables: { id } });
    probes.push({ covers: ['Query.messages'], query: `query($id: ID!) { messages(first: 50, filter: { templateId: $id }) { edges { node { ${MESSAGE} } } } }`, variables: { id } });
    probes.push({ covers: ['Query.previewMessage'], query: `query($id: ID!) { previewMessage(input: { templateId: $id, variables: { name: "x" } }) { body } }`, variables: { id } });
  }
  for (const id of anyId(['batch'])) {
    probes.push({ covers: ['Query.batch'], query: `query($id: ID!) { batch(id: $id) { id total acceptedCount statusCounts { status count } } }`, variables: { id } });
    probes.push({ covers: ['Query.messages'], query: `query($id: ID!) { messages(first: 50, filter: { batchId: $id }) { edges { node { ${MESSAGE} } } } }`, variables: { id } });
  }
  // Lists and filters by A's numbers and words: B must see only its own (empty) account.
  const lists: [string, string][] = [
    ['Query.messages', `{ messages(first: 100) { edges { node { ${MESSAGE} } } } }`],
    ['Query.messages', `query($to: String!, $s: String!) { a: messages(first: 100, filter: { to: $to }) { edges { node { id body } } } b: messages(first: 100, filter: { search: $s }) { edges { node { id body } } } }`],
    ['Query.templates', '{ templates(first: 100) { edges { node { id name body status } } } pending: templates(first: 100, status: PENDING_REVIEW) { edges { node { id name } } } }'],
    ['Query.inboundMessages', `query($from: String!) { inboundMessages(first: 100) { edges { node { id body from } } } f: inboundMessages(first: 100, from: $from) { edges { node { id body } } } }`],
    ['Query.optOuts', '{ optOuts(first: 100) { edges { node { phone source } } } }'],
    ['Query.verifications', `query($to: String!) { verifications(first: 100) { edges { node { id to status } } } t: verifications(first: 100, to: $to) { edges { node { id } } } }`],
    ['Query.conversation', `query($p: String!) { conversation(phone: $p, first: 100) { edges { node { __typename ... on Message { id body } ... on InboundMessage { id body } } } } }`],
    ['Query.apiKeys', '{ apiKeys { id name } }'],
    ['Query.senderIdentities', '{ senderIdentities { id value } }'],
    ['Query.prices', '{ prices { id provider country pricePerSegment } }'],
    ['Query.exportPrices', '{ exportPrices }'],
    ['Query.sensitiveWordRules', '{ sensitiveWordRules { word kind } }'],
    ['Query.viewer', '{ viewer { account { id name } apiKey { id name } } }'],
    ['Query.webhookEndpoints', '{ webhookEndpoints { id url description } }'],
  ];
  const listVars = { to: phones.recipient, s: secret, from: phones.recipient, p: phones.recipient };
  for (const [covers, query] of lists) {
    const declared = [...query.matchAll(/\$(\w+)/g)].map((m) => m[1]!);
    probes.push({ covers: [covers], query, variables: Object.fromEntries(declared.map((v) => [v, listVars[v as keyof typeof listVars]])) });
  }
  // Mutations on A's things.
  const m = (covers: string, query: string, variables: Record<string, unknown>) => probes.push({ covers: [`Mutation.${covers}`], query, variables });
  for (const id of anyId(['scheduledMessage', 'message'])) m('cancelMessage', `mutation($id: ID!) { cancelMessage(id: $id) { ${ERR} ... on CancelMessageSuccess { data { ${MESSAGE} } } } }`, { id });
  for (const id of anyId(['templatePending', 'templateDraft', 'templateApproved'])) {
    m('updateTemplate', `mutation($id: ID!) { updateTemplate(id: $id, input: { body: "hijacked {{name}}" }) { ${ERR} ... on UpdateTemplateSuccess { data { id name body } } } }`, { id });
    m('submitTemplate', `mutation($id: ID!) { submitTemplate(id: $id) { ${ERR} ... on SubmitTemplateSuccess { data { id name body } } } }`, { id });
    m('reviewTemplate', `mutation($id: ID!) { reviewTemplate(id: $id, approve: true) { ${ERR} ... on ReviewTemplateSuccess { data { id name body } } } }`, { id });
    m('reviewTemplate', `mutation($id: ID!) { reviewTemplate(id: $id, approve: false, reason: "no") { ${ERR} } }`, { id });
    m('setTemplateProviderMapping', `mutation($id: ID!) { setTemplateProviderMapping(id: $id, provider: "aliyun", code: "SMS_1") { ${ERR} } }`, { id });
    m('sendMessage', `mutation($id: ID!) { sendMessage(input: { to: "+8613800138200", templateId: $id, variables: { name: "x" } }) { ${ERR} ... on SendMessageSuccess { data { ${MESSAGE} } } } }`, { id });
    m('sendMessages', `mutation($id: ID!) { sendMessages(input: { templateId: $id, recipients: [{ to: "+8613800138201", variables: { name: "x" } }] }) { ${ERR} ... on SendMessagesSuccess { accepted { ${MESSAGE} } } } }`, { id });
    m('startVerification', `mutation($id: ID!) { startVerification(input: { to: "+8613800138202", templateId: $id }) { ${ERR} ... on StartVerificationSuccess { data { id message { ${MESSAGE} } } } } }`, { id });
    m('deleteTemplate', `mutation($id: ID!) { deleteTemplate(id: $id) { ${ERR} } }`, { id });
  }
  // A browser token for A's things: B must get no token (a token names what it may watch or send with).
  const TOKEN = `... on CreateAccessTokenSuccess { data { token expiresAt scope { messages batch sendTemplates } } }`;
  for (const id of anyId(['message', 'scheduledMessage', 'templateMessage'])) m('createAccessToken', `mutation($id: ID!) { createAccessToken(input: { messages: [$id] }) { ${ERR} ${TOKEN} } }`, { id });
  for (const id of anyId(['batch'])) m('createAccessToken', `mutation($id: ID!) { createAccessToken(input: { batch: $id }) { ${ERR} ${TOKEN} } }`, { id });
  for (const id of anyId(['templateApproved'])) m('createAccessToken', `mutation($id: ID!) { createAccessToken(input: { sendTemplates: [$id], sendPerMinute: 5 }) { ${ERR} ${TOKEN} } }`, { id });
  for (const id of anyId(['price'])) m('removePrice', `mutation($id: ID!) { removePrice(id: $id) { ${ERR} } }`, { id });
  for (const id of anyId(['senderIdentity'])) m('removeSenderIdentity', `mutation($id: ID!) { removeSenderIdentity(id: $id) { ${ERR} } }`, { id });
  for (const id of anyId(['apiKey'])) m('revokeApiKey', `mutation($id: ID!) { revokeApiKey(id: $id) { ${ERR} ... on RevokeApiKeySuccess { data { id name } } } }`, { id });
  const HOOK = 'id url description enabled eventTypes';
  for (const id of anyId(['webhookEndpoint'])) {
    probes.push({ covers: ['Query.webhookDeliveries'], query: `query($id: ID!) { webhookDeliveries(endpointId: $id, first: 50) { edges { node { id eventId payload } } } }`, variables: { id } });
    m('updateWebhookEndpoint', `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { url: "http://127.0.0.1:9/hijacked", enabled: false }) { ${ERR} ... on UpdateWebhookEndpointSuccess { data { ${HOOK} } } } }`, { id });
    m('rotateWebhookSecret', `mutation($id: ID!) { rotateWebhookSecret(id: $id) { ${ERR} ... on RotateWebhookSecretSuccess { data { secret endpoint { ${HOOK} } } } } }`, { id });
    m('deleteWebhookEndpoint', `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { ${ERR} ... on DeleteWebhookEndpointSuccess { data { ${HOOK} } } } }`, { id });
  }
  for (const id of anyId(['webhookDelivery'])) m('retryWebhookDelivery', `mutation($id: ID!) { retryWebhookDelivery(id: $id) { ${ERR} ... on RetryWebhookDeliverySuccess { data { id eventId payload } } } }`, { id });
  // By A's numbers rather than ids: removing A's opt-out, guessing A's code, replying as A's number.
  m('removeOptOut', `mutation($p: String!) { removeOptOut(phone: $p) { ${ERR} } }`, { p: phones.optedOut });
  for (const code of ['000000', '123456', '111111']) m('checkVerification', `mutation($to: String!, $c: String!) { checkVerification(input: { to: $to, code: $c }) { ${ERR} } }`, { to: phones.verified, c: code });
  m('simulateInboundMessage', `mutation($f: String!, $t: String!) { simulateInboundMessage(from: $f, to: $t, body: "STOP") { ${ERR} } }`, { f: phones.recipient, t: phones.sender });
  m('removeSensitiveWordRule', `mutation($w: String!) { removeSensitiveWordRule(kind: BLOCK, word: $w) { ${ERR} } }`, { w: secret });
  for (const p of [phones.recipient, phones.optedOut, phones.verified]) m('eraseRecipientData', `mutation($p: String!) { eraseRecipientData(phone: $p) { ${ERR} ... on EraseRecipientDataSuccess { data { phone messages replies verifications optOutKept } } } }`, { p });
  // A's audit log, by A's key, A's subjects and A's numbers (and with no filter at all).
  const AUDIT = 'at keyId keyName action subjectType subjectId before after';
  const auditFilters: Record<string, unknown>[] = [
    {},
    ...anyId(['apiKey']).map((keyId) => ({ keyId })),
    ...Object.values(ids).map(rawId).map((subjectId) => ({ subjectId })),
    ...[phones.optedOut, phones.recipient].map((phone) => ({ phone })),
  ];
  for (const filter of auditFilters) {
    probes.push({ covers: ['Query.auditLog'], query: `query($f: AuditLogFilter) { auditLog(first: 100, filter: $f) { edges { node { ${AUDIT} } } } }`, variables: { f: filter } });
    probes.push({ covers: ['Query.exportAuditLog'], query: `query($f: AuditLogFilter) { exportAuditLog(filter: $f) }`, variables: { f: filter } });
  }
  return probes;
}

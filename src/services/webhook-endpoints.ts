// Outgoing webhook endpoints of an account: register, change, delete, rotate the secret; retry
// a failed delivery.
// Every function is scoped by accountId: an endpoint of another account is NOT_FOUND.
import { recordAudit, type AuditActor } from './audit.js';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { parseOrError } from '../domain/validation.js';
import type { WebhookDelivery, WebhookEndpoint } from '../generated/prisma/client.js';
import { resolvesToPrivateAddress, type ResolveHost } from '../outgoing-webhooks/address-guard.js';
import type { WebhookEventType } from '../outgoing-webhooks/events.js';
import { generateSecret } from '../outgoing-webhooks/signing.js';
import type { Store } from '../store/store.js';

/** Endpoints are read and written on `prisma`. */
type EndpointStore = Pick<Store, 'prisma'>;

export const MAX_ENDPOINTS_PER_ACCOUNT = 20;

const url = z
  .string()
  .trim()
  .max(2000, 'must be at most 2000 characters')
  .refine((value) => {
    try {
      const parsed = new URL(value);
      return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL')
  // Credentials in the URL would show in every delivery log and list.
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), 'must not contain a user name or password');

const eventTypes = z.array(z.string()).min(1, 'name at least one event type').transform((types) => [...new Set(types)]);
const description = z.string().trim().max(500, 'must be at most 500 characters');

const createSchema = z.object({ url, eventTypes, description: description.default('') });
const updateSchema = z.object({ url: url.optional(), eventTypes: eventTypes.optional(), description: description.optional(), enabled: z.boolean().optional() });

export interface WebhookEndpointInput {
  url: string;
  eventTypes: WebhookEventType[];
  description?: string | null;
}

export interface WebhookEndpointPatch {
  url?: string | null;
  eventTypes?: WebhookEventType[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

/** Where endpoints may point (WEBHOOK_ALLOW_PRIVATE_URLS); `resolve` for tests. */
export interface EndpointUrlPolicy {
  allowPrivateUrls: boolean;
  resolve?: ResolveHost;
}

/**
 * The SSRF guard at the door: a URL whose host is, or resolves to, a non-public address is a
 * validation error on `url` (deliveries check again where they connect: address-guard.ts).
 */
async function refusePrivateUrl(url: string | undefined, policy: EndpointUrlPolicy): Promise<ValidationError | undefined> {
  if (url === undefined || policy.allowPrivateUrls) return undefined;
  if (!(await resolvesToPrivateAddress(new URL(url).hostname, policy.resolve))) return undefined;
  return new ValidationError([
    { path: ['input', 'url'], message: 'must be a public address: this host is, or resolves to, a loopback, private, link-local or other non-public address' },
  ]);
}

/** The endpoint with its secret: returned by create and rotate only. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpoint;
  secret: string;
}

export async function createWebhookEndpoint(
  store: EndpointStore,
  accountId: string,
  input: WebhookEndpointInput,
  policy: EndpointUrlPolicy,
  audit?: AuditActor,
): Promise<EndpointWithSecret | ValidationError> {
  const parsed = parseOrError(createSchema, { ...input, description: input.description ?? undefined }, ['input']);
  if (parsed instanceof ValidationError) return parsed;
  const refused = await refusePrivateUrl(parsed.url, policy);
  if (refused) return refused;
  const count = await store.prisma.webhookEndpoint.count({ where: { accountId } });
  if (count >= MAX_ENDPOINTS_PER_ACCOUNT) {
    return new ValidationError([{ path: ['input'], message: `an account has at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints` }]);
  }
  const secret = generateSecret();
  const endpoint = await store.prisma.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.create({ data: { accountId, ...parsed, secret } });
    if (audit) await recordAudit(tx, audit, { action: 'webhookEndpoint.create', subjectId: endpoint.id, after: shownEndpoint(endpoint) });
    return endpoint;
  });
  return { endpoint, secret };
}

export async function updateWebhookEndpoint(
  store: EndpointStore,
  accountId: string,
  id: string,
  patch: WebhookEndpointPatch,
  policy: EndpointUrlPolicy,
  audit?: AuditActor,
): Promise<WebhookEndpoint | ValidationError | NotFoundError> {
  const parsed = parseOrError(
    updateSchema,
    Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null && v !== undefined)),
    ['input'],
  );
  if (parsed instanceof ValidationError) return parsed;
  const refused = await refusePrivateUrl(parsed.url, policy);
  if (refused) return refused;
  // Enabling again clears Herald's reason and failure record: the account says it is fixed.
  const enabling = parsed.enabled === true ? { disabledReason: null, disabledAt: null, consecutiveFailures: 0, failingSince: null } : {};
  const disabling = parsed.enabled === false ? { disabledReason: null, disabledAt: new Date() } : {};
  const updated = await store.prisma.$transaction(async (tx) => {
    const before = await tx.webhookEndpoint.findFirst({ where: { id, accountId } });
    if (!before) return null;
    const after = await tx.webhookEndpoint.update({ where: { id }, data: { ...parsed, ...enabling, ...disabling } });
    if (audit) await recordAudit(tx, audit, { action: 'webhookEndpoint.update', subjectId: id, before: shownEndpoint(before), after: shownEndpoint(after) });
    return after;
  });
  if (!updated) return new NotFoundError('webhook endpoint');
  return updated;
}

/** Deletes the endpoint with its delivery log; returns the deleted endpoint. */
export async function deleteWebhookEndpoint(store: EndpointStore, accountId: string, id: string, audit?: AuditActor): Promise<WebhookEndpoint | NotFoundError> {
  const endpoint = await store.prisma.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.findFirst({ where: { id, accountId } });
    if (!endpoint) return null;
    const { count } = await tx.webhookEndpoint.deleteMany({ where: { id, accountId } });
    if (count && audit) await recordAudit(tx, audit, { action: 'webhookEndpoint.delete', subjectId: id, before: shownEndpoint(endpoint) });
    return endpoint;
  });
  if (!endpoint) return new NotFoundError('webhook endpoint');
  return endpoint;
}

/**
 * A new secret, used from the next attempt on (retries of older events included): the old one
 * stops at once, so a receiver updates its secret right after rotating.
 */
export async function rotateWebhookSecret(store: EndpointStore, accountId: string, id: string, audit?: AuditActor): Promise<EndpointWithSecret | NotFoundError> {
  const secret = generateSecret();
  const count = await store.prisma.$transaction(async (tx) => {
    const { count } = await tx.webhookEndpoint.updateMany({ where: { id, accountId }, data: { secret } });
    // Neither secret is kept: only that it changed.
    if (count && audit) await recordAudit(tx, audit, { action: 'webhookEndpoint.rotateSecret', subjectId: id, after: { secretRotated: true } });
    return count;
  });
  if (count === 0) return new NotFoundError('webhook endpoint');
  return { endpoint: await store.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } }), secret };
}

/**
 * Gives a FAILED delivery one more attempt, due now (the console's retry button): it becomes
 * PENDING and the worker sends it as usual, with the same webhook-id (receivers deduplicate on
 * it). Only FAILED ones: a PENDING delivery is already coming and a SUCCEEDED one arrived. A
 * delivery of a disabled endpoint would never be claimed, so that is refused too.
 */
export async function retryWebhookDelivery(store: EndpointStore, accountId: string, id: string, now: Date, audit?: AuditActor): Promise<WebhookDelivery | NotFoundError | ValidationError> {
  const delivery = await store.prisma.webhookDelivery.findFirst({ where: { id, endpoint: { accountId } }, include: { endpoint: { select: { enabled: true } } } });
  if (!delivery) return new NotFoundError('webhook delivery');
  if (delivery.status !== 'FAILED') return new ValidationError([{ path: ['id'], message: `is ${delivery.status}: only a FAILED delivery can be retried` }]);
  if (!delivery.endpoint.enabled) return new ValidationError([{ path: ['id'], message: 'its endpoint is disabled: enable it first' }]);
  // The status in the condition: of two retries at once, one wins and the other sees no change.
  const count = await store.prisma.$transaction(async (tx) => {
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id, status: 'FAILED' },
      data: { status: 'PENDING', nextAttemptAt: now, completedAt: null },
    });
    if (count && audit) {
      await recordAudit(tx, audit, { action: 'webhookDelivery.retry', subjectId: id, before: { status: 'FAILED', endpointId: delivery.endpointId }, after: { status: 'PENDING', endpointId: delivery.endpointId } });
    }
    return count;
  });
  if (count === 0) return new ValidationError([{ path: ['id'], message: 'is being retried already' }]);
  return store.prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });
}

/** What the audit log keeps of an endpoint: never its secret. */
function shownEndpoint(e: WebhookEndpoint) {
  return { url: urlWithoutSecrets(e.url), description: e.description, eventTypes: e.eventTypes, enabled: e.enabled };
}

/** A URL may carry a token (user:password@, ?token=…): the log keeps the names, not the values. */
function urlWithoutSecrets(text: string): string {
  const url = new URL(text);
  if (url.username || url.password) url.username = url.password = REDACTED_PART;
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, REDACTED_PART);
  return url.toString();
}

const REDACTED_PART = 'REDACTED';

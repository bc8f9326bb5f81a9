// Outgoing webhooks over GraphQL: ADMIN keys register endpoints and read the delivery log.
// Domain logic lives in src/services/webhook-endpoints.ts and src/outgoing.
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { eventTypeFromEnum, eventTypeToEnum, WEBHOOK_EVENT_TYPES, type WebhookEventEnum } from '../outgoing-webhooks/events.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  retryWebhookDelivery,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type EndpointWithSecret,
} from '../services/webhook-endpoints.js';
import { accountNode } from './account-node.js';
import { builder } from './builder.js';
import { isUuid } from '../domain/ids.js';
import { decodeId, NO_ROW_ID } from './global-id.js';
import { unwrap } from './unwrap.js';
import { auditActorOf } from './audit-log.js';

export const WebhookEventTypeEnum = builder.enumType('WebhookEventType', {
  description:
    'Events an endpoint can receive; the payload\'s `type` is the dotted name: message.status_changed (every change), message.sent, message.delivered, message.failed (FAILED, UNDELIVERED, EXPIRED or REJECTED), inbound.received.',
  values: Object.values(WEBHOOK_EVENT_TYPES),
});

const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description: 'PENDING: not delivered yet (an attempt is due at nextAttemptAt). SUCCEEDED: a 2xx answer. FAILED: every attempt failed.',
  values: ['PENDING', 'SUCCEEDED', 'FAILED'] as const,
});

const toEnums = (types: string[]): WebhookEventEnum[] => types.map(eventTypeToEnum).filter((t): t is WebhookEventEnum => t !== undefined);

export const WebhookEndpoint = accountNode('WebhookEndpoint', {
  description: 'A URL Herald POSTs the account\'s events to, signed per Standard Webhooks. Its secret is shown at creation and rotation only.',
  fields: (t) => ({
    url: t.exposeString('url'),
    description: t.exposeString('description'),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], resolve: (e) => toEnums(e.eventTypes) }),
    enabled: t.exposeBoolean('enabled'),
    disabledReason: t.exposeString('disabledReason', {
      nullable: true,
      description: 'Why Herald disabled the endpoint (it kept failing); null when enabled or disabled by the account.',
    }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', { description: 'Deliveries in a row that failed every attempt.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const WebhookAttempt = builder.prismaObject('WebhookAttempt', {
  description: 'One POST of a delivery.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: '1 for the first attempt.' }),
    at: t.expose('at', { type: 'DateTime' }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'The HTTP status; null when no answer came (timeout, refused connection).' }),
    durationMs: t.exposeInt('durationMs'),
    error: t.exposeString('error', { nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true, description: 'The retry this failure scheduled; null after a success or the last attempt.' }),
  }),
});

const WebhookDelivery = builder.prismaObject('WebhookDelivery', {
  description: 'One event for one endpoint: its payload, state and attempts.',
  fields: (t) => ({
    id: t.exposeID('id'),
    eventId: t.exposeString('eventId', { description: 'The webhook-id header: the same on every attempt, for deduplication.' }),
    eventType: t.field({ type: WebhookEventTypeEnum, resolve: (d) => eventTypeToEnum(d.eventType)! }),
    payload: t.exposeString('payload', { description: 'The exact JSON body sent (and signed).' }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status as 'PENDING' | 'SUCCEEDED' | 'FAILED' }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    log: t.relation('log', { description: 'Every attempt, first to last.', query: { orderBy: { attempt: 'asc' } } }),
  }),
});

const WebhookEndpointWithSecret = builder.objectRef<EndpointWithSecret>('WebhookEndpointWithSecret').implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpoint, resolve: (r) => r.endpoint }),
    secret: t.exposeString('secret', { description: 'The signing secret (whsec_…). Store it now: it is never shown again.' }),
  }),
});

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({
      required: true,
      description: 'An http:// or https:// URL on a public address (loopback, private and link-local hosts are refused unless the server sets WEBHOOK_ALLOW_PRIVATE_URLS).',
    }),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], required: true }),
    description: t.string({ required: false }),
  }),
});

const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  description: 'Fields left out stay as they are. enabled: true also clears a disabledReason.',
  fields: (t) => ({
    url: t.string({ required: false }),
    eventTypes: t.field({ type: [WebhookEventTypeEnum], required: false }),
    description: t.string({ required: false }),
    enabled: t.boolean({ required: false }),
  }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.prismaField({
    type: [WebhookEndpoint],
    description: "ADMIN only. The account's webhook endpoints, newest first.",
    authScopes: { admin: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.webhookEndpoint.findMany({ ...query, where: { accountId: ctx.auth.accountId }, orderBy: { id: 'desc' } }),
  }),
  webhookDeliveries: t.prismaConnection({
    type: WebhookDelivery,
    cursor: 'id',
    description: 'ADMIN only. The delivery log of one endpoint, newest first.',
    authScopes: { admin: true },
    defaultSize: 20,
    maxSize: 100,
    args: { endpointId: t.arg.id({ required: true }), status: t.arg({ type: WebhookDeliveryStatusEnum, required: false }) },
    resolve: (query, _root, args, ctx) => {
      // An unknown or foreign id gives an empty log, like a list filtered to nothing.
      const id = decodeId(args.endpointId, 'WebhookEndpoint', NO_ROW_ID);
      return ctx.prisma.webhookDelivery.findMany({
        ...query,
        where: { endpointId: id, endpoint: { accountId: ctx.auth.accountId }, ...(args.status && { status: args.status }) },
        orderBy: { id: 'desc' },
      });
    },
  }),
}));

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: WebhookEndpointWithSecret,
    description: 'ADMIN only. Registers an endpoint; the signing secret is in the result, once.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const endpoint = { url: input.url, eventTypes: input.eventTypes.map(eventTypeFromEnum), description: input.description };
      return unwrap(await createWebhookEndpoint(ctx.store, ctx.auth.accountId, endpoint, ctx.config.outgoingWebhooks, await auditActorOf(ctx)));
    },
  }),
  updateWebhookEndpoint: t.field({
    type: WebhookEndpoint,
    description: 'ADMIN only. Changes the URL, event types, description, or enables/disables the endpoint.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, ForbiddenError] },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'WebhookEndpoint'));
      const changes = { ...args.input, eventTypes: args.input.eventTypes?.map(eventTypeFromEnum) };
      return unwrap(await updateWebhookEndpoint(ctx.store, ctx.auth.accountId, id, changes, ctx.config.outgoingWebhooks, await auditActorOf(ctx)));
    },
  }),
  deleteWebhookEndpoint: t.field({
    type: WebhookEndpoint,
    description: 'ADMIN only. Deletes the endpoint and its delivery log; returns it as it was.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ForbiddenError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'WebhookEndpoint'));
      return unwrap(await deleteWebhookEndpoint(ctx.store, ctx.auth.accountId, id, await auditActorOf(ctx)));
    },
  }),
  rotateWebhookSecret: t.field({
    type: WebhookEndpointWithSecret,
    description: 'ADMIN only. Replaces the signing secret (effective on the next attempt); the new one is in the result, once.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ForbiddenError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = unwrap(decodeId(args.id, 'WebhookEndpoint'));
      return unwrap(await rotateWebhookSecret(ctx.store, ctx.auth.accountId, id, await auditActorOf(ctx)));
    },
  }),
  retryWebhookDelivery: t.field({
    type: WebhookDelivery,
    description:
      'ADMIN only. Gives a FAILED delivery one more attempt, due now, with the same webhook-id; it is PENDING until the worker sends it. A delivery not FAILED, or of a disabled endpoint, is a ValidationError.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, ForbiddenError] },
    args: { id: t.arg.id({ required: true, description: 'WebhookDelivery.id' }) },
    resolve: async (_root, args, ctx) => {
      const id = String(args.id).toLowerCase();
      if (!isUuid(id)) throw new NotFoundError('webhook delivery');
      return unwrap(await retryWebhookDelivery(ctx.store, ctx.auth.accountId, id, new Date(), await auditActorOf(ctx)));
    },
  }),
}));

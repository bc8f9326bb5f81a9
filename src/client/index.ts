// Herald's typed client SDK. Operations live in operations.graphql; their types are generated
// from the committed schema.graphql by `npm run generate` (codegen.ts).
import {
  MessageStatsDocument,
  type MessageStatsGroupFieldsFragment,
  type StatsGroupBy,
  ProvidersDocument,
  type ProvidersQuery,
  GetBatchDocument,
  GetMessageDocument,
  GetTemplateDocument,
  ListMessagesDocument,
  PreviewMessageDocument,
  SendBulkDocument,
  SendMessageDocument,
  type BulkRecipientInput,
  type ErrorCode,
  type MessageEventFilter,
  type MessageFieldsFragment,
  type MessageFilter,
  type MessageStatus,
  type PreviewInput,
  type PreviewMessageQuery,
  type SendMessageInput,
  type SendMessagesInput,
  type TypedDocumentString,
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  ListWebhookEndpointsDocument,
  RetryWebhookDeliveryDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  ExportPricesDocument,
  ImportPricesDocument,
  ListPricesDocument,
  RemovePriceDocument,
  GetConfigurationDocument,
  ConfigChangesDocument,
  AddProviderDocument,
  UpdateProviderDocument,
  RemoveProviderDocument,
  SetRoutingDocument,
  ResetRoutingDocument,
  type AddProviderInput,
  type UpdateProviderInput,
  type ConfigurationFieldsFragment,
  type ConfigChangesQuery,
  SetPriceDocument,
  CreateAccessTokenDocument,
  type CreateAccessTokenInput,
  type CreateAccessTokenMutation,
  ListBudgetsDocument,
  RemoveBudgetDocument,
  SetBudgetDocument,
  type BudgetFieldsFragment,
  type BudgetPeriod,
  type SetBudgetInput,
  type PriceFieldsFragment,
  type SetPriceInput,
  type CreateWebhookEndpointInput,
  type UpdateWebhookEndpointInput,
  type WebhookDeliveriesQuery,
  type WebhookDeliveryStatus,
  type WebhookEndpointFieldsFragment,
  type WebhookEventType,
} from './generated/graphql.js';
import { fromGraphQLErrors, HeraldApiError } from './errors.js';
import { CATCH_UP_PAGE_SIZE, inboundResume, messageEventsResume } from './catch-up.js';
import { Realtime } from './realtime.js';
import * as G from './generated/graphql.js';

export { HeraldApiError };

export type Message = MessageFieldsFragment;
export type { BulkRecipientInput, ErrorCode, MessageFilter, MessageStatus, PreviewInput, SendMessageInput, SendMessagesInput };
export type MessagePreview = PreviewMessageQuery['previewMessage'];
export type Template = G.TemplateFieldsFragment;
export type InboundMessage = G.InboundMessageFieldsFragment;
/** One entry of a conversation: a message sent to the number or one received from it. */
export type ConversationEntry = G.ConversationQuery['conversation']['edges'][number];
export type Verification = G.VerificationFieldsFragment;
export type OptOut = G.ListOptOutsQuery['optOuts']['edges'][number]['node'];
export type ApiKey = G.ApiKeyFieldsFragment;
export type Viewer = G.ViewerQuery['viewer'];
export type SenderIdentity = G.SenderIdentityFieldsFragment;
export type AccountSettings = G.AccountSettingsFieldsFragment;
export type SensitiveWordRule = G.ListSensitiveWordRulesQuery['sensitiveWordRules'][number];
export type {
  AccountSettingsInput,
  ApiKeyRole,
  CheckVerificationInput,
  CreateTemplateInput,
  MessageEventFilter,
  SensitiveRuleKind,
  StartVerificationInput,
  TemplateStatus,
  UpdateTemplateInput,
  VerificationStatus,
} from './generated/graphql.js';
export type ProviderHealth = ProvidersQuery['providers'][number];
export type MessageStatsGroup = MessageStatsGroupFieldsFragment;
export type { StatsGroupBy };
export type WebhookEndpoint = WebhookEndpointFieldsFragment;
export type WebhookDeliveryPage = WebhookDeliveriesQuery['webhookDeliveries'];
export type { CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookDeliveryStatus, WebhookEventType };
export type Price = PriceFieldsFragment;
export type { SetPriceInput };
export type Budget = BudgetFieldsFragment;
export type { BudgetPeriod, SetBudgetInput };
export type Configuration = ConfigurationFieldsFragment;
export type ConfigChange = ConfigChangesQuery['configChanges'][number];
export type { AddProviderInput, UpdateProviderInput };
/** A short-lived token for a browser page (createAccessToken), with what it grants. */
export type AccessToken = Extract<CreateAccessTokenMutation['createAccessToken'], { __typename: 'CreateAccessTokenSuccess' }>['data'];
export type { CreateAccessTokenInput };
/** What importPrices did: lines created, lines that replaced a row with the same key, rows `replace` removed. */
export interface PriceImportCounts {
  created: number;
  replaced: number;
  removed: number;
}

/** Most recipients one sendBulk call takes (the server's limit). */
export const MAX_BULK_RECIPIENTS = 10_000;

export interface SMSClientOptions {
  /** The GraphQL endpoint; default HERALD_URL (in Node) or `http://127.0.0.1:4000/graphql`. */
  url?: string;
  /**
   * An API key (`hk_…`): for servers only, never a browser. Give this or `token`.
   */
  apiKey?: string;
  /**
   * An access token (createAccessToken) instead of a key: what a browser page uses. It can do
   * only what it grants (other calls reject with FORBIDDEN) and only until it expires
   * (UNAUTHENTICATED: mint a new one from your backend).
   */
  token?: string;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
  /**
   * A WebSocket class for subscriptions (watch, events, inbound). Browsers and Node ≥ 22 have a
   * global one; without it (Node 20) the `ws` package is loaded.
   */
  webSocketImpl?: unknown;
  /** Reconnections in a row a subscription tries before it fails (default 10). */
  retryAttempts?: number;
}

/** The endpoint when none is given: HERALD_URL where there is an environment, else a local Herald. */
function defaultUrl(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.HERALD_URL || 'http://127.0.0.1:4000/graphql';
}

/** Statuses after which a message never changes (the server's status machine's finals). */
const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED', 'CANCELED']);

type Success<R> = Extract<R, { __typename: `${string}Success` }>;

/** A mutation's success member, or its error member thrown as a HeraldApiError. */
function succeeded<R extends { __typename: string }>(result: R): Success<R> {
  if (result.__typename.endsWith('Success')) return result as Success<R>;
  throw apiError(result as unknown as { __typename: string; code: ErrorCode; message: string });
}

/** A Relay connection as the SDK returns pages: the nodes, and where the next page starts. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  endCursor: string | null;
}

function pageOf<T>(connection: { edges: { node: T }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } }): Page<T> {
  return { items: connection.edges.map((e) => e.node), hasNextPage: connection.pageInfo.hasNextPage, endCursor: connection.pageInfo.endCursor ?? null };
}

export type PageOptions = { first?: number; after?: string | null };


/**
 * The failure member of a mutation's result union, as selected by the ErrorFields fragment
 * (operations.graphql): `code`, `message` and the error type's own fields, which become `details`.
 */
function apiError<F extends { __typename: string; code: ErrorCode; message: string }>({ __typename, code, message, ...details }: F): HeraldApiError {
  return new HeraldApiError(code, message, { type: __typename, ...details });
}

export interface SendSMSOptions extends Omit<SendMessageInput, 'body'> {
  /** The text to send (SendMessageInput.body). */
  message?: string | null;
}

export interface SendBulkOptions extends Omit<SendMessagesInput, 'body'> {
  /** The text to send to every recipient (SendMessagesInput.body); or give `templateId`. */
  message?: string | null;
  /** Same as `message`. */
  body?: string | null;
}

/** A recipient refused by the server; `index` is its position in `recipients` (from 0). */
export interface RecipientRejection {
  index: number;
  to: string;
  code: ErrorCode;
  message: string;
}

export interface BulkResult {
  /** Filter with `listMessages({ batchId })`, or follow with `getBatch(batchId)`. */
  batchId: string;
  /** Recipients given. */
  total: number;
  /** Messages stored (QUEUED or SCHEDULED). */
  acceptedCount: number;
  rejected: RecipientRejection[];
  /**
   * When the batch was created. A retry with the same `idempotencyKey` and input returns the
   * original batch (sending nothing new): then this is the first call's time.
   */
  createdAt: string;
}

export interface BatchSummary {
  id: string;
  total: number;
  acceptedCount: number;
  rejectedCount: number;
  idempotencyKey: string | null;
  createdAt: string;
  /** How many of the batch's messages are in each status now (statuses with none are absent). */
  counts: Partial<Record<MessageStatus, number>>;
}

export interface MessagePage {
  messages: Message[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** A DateTime argument as the API reads it. */
const iso = (d: Date | string | undefined) => (d instanceof Date ? d.toISOString() : d);

export class SMSClient {
  readonly #url: string;
  readonly #bearer: string;
  readonly #fetch: typeof fetch;
  readonly #realtime: Realtime;

  /** `new SMSClient(apiKey)` (the endpoint from HERALD_URL or the local default) or `new SMSClient({ url, apiKey | token, … })`. */
  constructor(options: SMSClientOptions | string) {
    if (typeof options === 'string') options = { apiKey: options };
    if (!options.apiKey === !options.token) throw new TypeError('SMSClient: give either apiKey or token');
    this.#url = options.url ?? defaultUrl();
    this.#bearer = (options.apiKey ?? options.token)!;
    // Called as a plain function: browsers throw "Illegal invocation" when their fetch is called on another `this`.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#realtime = new Realtime({ url: this.#url, bearer: this.#bearer, webSocketImpl: options.webSocketImpl, retryAttempts: options.retryAttempts });
  }

  /**
   * The message each time its status changes, from its current status on, ending after a final
   * one (DELIVERED, UNDELIVERED, …): `for await (const m of client.watch(id))`. Over graphql-ws;
   * a dropped socket is reopened and the subscription made again, which starts with the
   * message's current state: a status reached while disconnected is yielded then, and one
   * already yielded is not yielded twice. Rejects with HeraldApiError (NOT_FOUND for a message
   * not in your account, FORBIDDEN outside a token's scope). Breaking out of the loop ends it.
   */
  async *watch(id: string): AsyncGenerator<Message> {
    // Statuses only move forward, so a status seen before is a repeat (a resubscription's
    // current state) or older than what was yielded.
    const seen = new Set<MessageStatus>();
    const fresh = (message: Message) => !seen.has(message.status) && (seen.add(message.status), true);
    for await (const { messageStatusChanged: message } of this.#realtime.subscribe(G.WatchMessageDocument, { id })) {
      if (!fresh(message)) continue;
      yield message;
      if (FINAL_STATUSES.has(message.status)) return;
    }
    // The server ends the subscription after a final status; if it ended otherwise (e.g. it was
    // stopped between the two), the stored state says where the message is.
    const current = await this.getMessage(id);
    if (current && fresh(current)) yield current;
  }

  /**
   * Every status transition of the account's messages (messageEvents), optionally only into
   * `filter.status` or of `filter.batchId`. Reconnects like watch(), then first yields what
   * changed while it was disconnected (each such message once, in its current state, oldest
   * change first; with `filter.status`, when its current status is in it), then live
   * transitions again; none is yielded twice. A token needs `filter.batchId` set to its batch.
   */
  async *events(filter?: MessageEventFilter): AsyncGenerator<Message> {
    const resume = messageEventsResume(
      (messageEvents: Message) => ({ messageEvents }),
      (r) => r.messageEvents,
      async (catchUp, after) => {
        const { messages } = await this.request(ListMessagesDocument, { filter: catchUp, first: CATCH_UP_PAGE_SIZE, after });
        return pageOf(messages);
      },
      filter,
    );
    for await (const { messageEvents } of this.#realtime.subscribe(G.MessageEventsDocument, { filter }, resume)) yield messageEvents;
  }

  /**
   * Every message received on the account's numbers (inboundMessageReceived). Reconnects like
   * events(), then first yields the replies stored while it was disconnected (oldest first), none twice.
   */
  async *inbound(): AsyncGenerator<InboundMessage> {
    const resume = inboundResume(
      (inboundMessageReceived: InboundMessage) => ({ inboundMessageReceived }),
      (r) => r.inboundMessageReceived,
      async (after) => pageOf((await this.request(G.ListInboundMessagesDocument, { first: CATCH_UP_PAGE_SIZE, after })).inboundMessages),
    );
    for await (const { inboundMessageReceived } of this.#realtime.subscribe(G.InboundReceivedDocument, {}, resume)) yield inboundMessageReceived;
  }

  /** Closes the subscription socket, if one is open (running watch/events/inbound loops end). */
  async close(): Promise<void> {
    await this.#realtime.close();
  }

  /**
   * Sends one message. Resolves to the stored message (status QUEUED or SCHEDULED);
   * rejects with a HeraldApiError carrying the API's code (e.g. INVALID_PHONE_NUMBER).
   */
  async sendSMS({ message, ...input }: SendSMSOptions): Promise<Message> {
    const { sendMessage } = await this.request(SendMessageDocument, { input: { ...input, body: message } });
    if (sendMessage.__typename === 'SendMessageSuccess') return sendMessage.data;
    throw apiError(sendMessage);
  }

  /**
   * Sends one body or approved template to up to 10 000 recipients in one batch. Each recipient
   * is checked on its own: the refused ones come back in `rejected` (with their index and code),
   * the others are stored. Rejects with a HeraldApiError when the whole call is refused (e.g.
   * TEMPLATE_NOT_APPROVED, IDEMPOTENCY_CONFLICT, VALIDATION_FAILED for more than 10 000).
   * Selects counts only, never the accepted messages: use `listMessages({ batchId })` for those.
   */
  async sendBulk({ message, body, ...input }: SendBulkOptions): Promise<BulkResult> {
    if (message != null && body != null && message !== body) {
      throw new HeraldApiError('VALIDATION_FAILED', 'give the text as `message` or `body`, not both', { type: 'ValidationError' });
    }
    const { sendMessages } = await this.request(SendBulkDocument, { input: { ...input, body: message ?? body } });
    if (sendMessages.__typename === 'SendMessagesSuccess') {
      const { batchId, rejected, data } = sendMessages;
      return { batchId, total: data.total, acceptedCount: data.acceptedCount, rejected, createdAt: data.createdAt };
    }
    throw apiError(sendMessages);
  }

  /** A sendBulk batch with its messages counted by status now, or null when not in your account. */
  async getBatch(id: string): Promise<BatchSummary | null> {
    const { batch } = await this.request(GetBatchDocument, { id });
    if (!batch) return null;
    const { statusCounts, ...rest } = batch;
    return { ...rest, counts: Object.fromEntries(statusCounts.map((c) => [c.status, c.count])) };
  }

  /** One template (its current version) by id, or null when it does not exist in your account. */
  async getTemplate(id: string): Promise<Template | null> {
    return (await this.request(GetTemplateDocument, { id })).template ?? null;
  }

  /** One message by id, or null when it does not exist in your account. */
  async getMessage(id: string): Promise<Message | null> {
    return (await this.request(GetMessageDocument, { id })).message ?? null;
  }

  /** A page of messages, newest first. Pass `after: page.endCursor` for the next page. */
  async listMessages(filter?: MessageFilter, page: { first?: number; after?: string | null } = {}): Promise<MessagePage> {
    const { messages } = await this.request(ListMessagesDocument, { filter, first: page.first, after: page.after });
    return { messages: messages.edges.map((e) => e.node), hasNextPage: messages.pageInfo.hasNextPage, endCursor: messages.pageInfo.endCursor ?? null };
  }

  /** Each provider's circuit, limits, success rate and latency, as the server's instance sees them. */
  async providers(): Promise<ProviderHealth[]> {
    return (await this.request(ProvidersDocument, {})).providers;
  }

  /**
   * Counts, segments, delivery rate and median time to delivery of the messages created in
   * [from, to) (at most 400 days), grouped by DAY, PROVIDER, STATUS, COUNTRY or TEMPLATE, with the
   * all-groups `totals`. Rejects with VALIDATION_FAILED for a reversed or too long range.
   * Medians of ranges over 50 000 messages come from a histogram (within 4.4 %) unless `exact`.
   */
  async messageStats(
    from?: Date | string,
    to?: Date | string,
    groupBy?: StatsGroupBy,
    options: { exact?: boolean } = {},
  ): Promise<{ groups: MessageStatsGroup[]; totals: MessageStatsGroup }> {
    // A bad range comes back as a GraphQL error (code VALIDATION_FAILED): request() throws it.
    const { messageStats } = await this.request(MessageStatsDocument, { from: iso(from), to: iso(to), groupBy, exact: options.exact });
    return { groups: messageStats.groups, totals: messageStats.totals };
  }

  /** Encoding, segments and warnings for a body, without sending it. */
  async previewMessage(input: PreviewInput): Promise<MessagePreview> {
    return (await this.request(PreviewMessageDocument, { input })).previewMessage;
  }

  /** ADMIN key. Registers an outgoing webhook endpoint; `secret` (whsec_…) is shown this once. */
  async createWebhookEndpoint(input: CreateWebhookEndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const { createWebhookEndpoint: result } = await this.request(CreateWebhookEndpointDocument, { input });
    if (result.__typename === 'CreateWebhookEndpointSuccess') return result.data;
    throw apiError(result);
  }

  /** ADMIN key. The account's webhook endpoints, newest first. */
  async webhookEndpoints(): Promise<WebhookEndpoint[]> {
    return (await this.request(ListWebhookEndpointsDocument, {})).webhookEndpoints;
  }

  /** ADMIN key. Changes an endpoint; `enabled: true` re-enables one Herald disabled. */
  async updateWebhookEndpoint(id: string, input: UpdateWebhookEndpointInput): Promise<WebhookEndpoint> {
    const { updateWebhookEndpoint: result } = await this.request(UpdateWebhookEndpointDocument, { id, input });
    if (result.__typename === 'UpdateWebhookEndpointSuccess') return result.data;
    throw apiError(result);
  }

  /** ADMIN key. Deletes an endpoint and its delivery log. */
  async deleteWebhookEndpoint(id: string): Promise<void> {
    const { deleteWebhookEndpoint: result } = await this.request(DeleteWebhookEndpointDocument, { id });
    if (result.__typename === 'DeleteWebhookEndpointSuccess') return;
    throw apiError(result);
  }

  /** ADMIN key. A new signing secret, used from the next attempt on; returned this once. */
  async rotateWebhookSecret(id: string): Promise<string> {
    const { rotateWebhookSecret: result } = await this.request(RotateWebhookSecretDocument, { id });
    if (result.__typename === 'RotateWebhookSecretSuccess') return result.data.secret;
    throw apiError(result);
  }

  /** ADMIN key. One more attempt, due now, for a FAILED delivery (same webhook-id); PENDING until sent. */
  async retryWebhookDelivery(id: string): Promise<{ id: string; status: WebhookDeliveryStatus; attempts: number; nextAttemptAt?: string | null }> {
    const { retryWebhookDelivery: result } = await this.request(RetryWebhookDeliveryDocument, { id });
    if (result.__typename === 'RetryWebhookDeliverySuccess') return result.data;
    throw apiError(result);
  }

  /** ADMIN key. An endpoint's delivery log, newest first, with every attempt. */
  async webhookDeliveries(endpointId: string, page: { first?: number; after?: string | null; status?: WebhookDeliveryStatus } = {}): Promise<WebhookDeliveryPage> {
    return (await this.request(WebhookDeliveriesDocument, { endpointId, first: page.first, after: page.after, status: page.status })).webhookDeliveries;
  }

  /** ADMIN key. The account's prices; with `at`, only those in effect then. */
  async prices(filter: { provider?: string; country?: string; at?: Date | string } = {}): Promise<Price[]> {
    return (await this.request(ListPricesDocument, { provider: filter.provider, country: filter.country, at: iso(filter.at) })).prices;
  }

  /** ADMIN key. Sets a price ("0.0079" per segment); the same key and effectiveFrom again replaces it. */
  async setPrice(input: SetPriceInput): Promise<Price> {
    const { setPrice: result } = await this.request(SetPriceDocument, { input });
    if (result.__typename === 'SetPriceSuccess') return result.data;
    throw apiError(result);
  }

  /** ADMIN key. Removes a price. */
  async removePrice(id: string): Promise<void> {
    const { removePrice: result } = await this.request(RemovePriceDocument, { id });
    if (result.__typename === 'RemovePriceSuccess') return;
    throw apiError(result);
  }

  /** ADMIN key. Imports a CSV price list, all or nothing (a bad line: HeraldApiError VALIDATION_FAILED with its issues). */
  async importPrices(csv: string, options: { replace?: boolean } = {}): Promise<PriceImportCounts> {
    const { importPrices: result } = await this.request(ImportPricesDocument, { csv, replace: options.replace ?? false });
    if (result.__typename === 'ImportPricesSuccess') return result.data;
    throw apiError(result);
  }

  /** ADMIN key. The account's prices as CSV, as importPrices reads it. */
  async exportPrices(): Promise<string> {
    return (await this.request(ExportPricesDocument, {})).exportPrices;
  }

  /** The operator's ADMIN key (OPERATOR_ACCOUNT). Providers and routing in force, with the configuration's version. */
  async configuration(): Promise<Configuration> {
    return (await this.request(GetConfigurationDocument, {})).configuration;
  }

  /** ADMIN key. The change log, newest first (the operator: providers, routing and its prices; others: their prices). */
  async configChanges(options: { first?: number; before?: number; subject?: string } = {}): Promise<ConfigChange[]> {
    return (await this.request(ConfigChangesDocument, options)).configChanges;
  }

  /** The operator's ADMIN key. Defines a provider at run time (credentials are sealed, never readable back). */
  async addProvider(input: AddProviderInput): Promise<Configuration> {
    const { addProvider: result } = await this.request(AddProviderDocument, { input });
    if (result.__typename === 'AddProviderSuccess') return result.data;
    throw apiError(result);
  }

  /** The operator's ADMIN key. Changes a provider's settings, credentials or enabled state. */
  async updateProvider(name: string, input: UpdateProviderInput): Promise<Configuration> {
    const { updateProvider: result } = await this.request(UpdateProviderDocument, { name, input });
    if (result.__typename === 'UpdateProviderSuccess') return result.data;
    throw apiError(result);
  }

  /** The operator's ADMIN key. Removes a run-time definition (PROVIDER_IN_USE while the routing names it). */
  async removeProvider(name: string): Promise<Configuration> {
    const { removeProvider: result } = await this.request(RemoveProviderDocument, { name });
    if (result.__typename === 'RemoveProviderSuccess') return result.data;
    throw apiError(result);
  }

  /** The operator's ADMIN key. Replaces the routing (an SMS_ROUTES-shaped document) on every instance. */
  async setRouting(document: Record<string, unknown>): Promise<Configuration> {
    const { setRouting: result } = await this.request(SetRoutingDocument, { document });
    if (result.__typename === 'SetRoutingSuccess') return result.data;
    throw apiError(result);
  }

  /** The operator's ADMIN key. SMS_ROUTES applies again. */
  async resetRouting(): Promise<Configuration> {
    const { resetRouting: result } = await this.request(ResetRoutingDocument, {});
    if (result.__typename === 'ResetRoutingSuccess') return result.data;
    throw apiError(result);
  }

  /** ADMIN key. The account's daily and monthly budgets with their current periods' spend. */
  async budgets(): Promise<Budget[]> {
    return (await this.request(ListBudgetsDocument, {})).budgets;
  }

  /** ADMIN key. Sets the budget of a period ({period: 'DAILY', limit: '250', currency: 'USD'}). */
  async setBudget(input: SetBudgetInput): Promise<Budget> {
    const { setBudget: result } = await this.request(SetBudgetDocument, { input });
    if (result.__typename === 'SetBudgetSuccess') return result.data;
    throw apiError(result);
  }

  /** ADMIN key. Removes the budget of a period. */
  async removeBudget(period: BudgetPeriod): Promise<void> {
    const { removeBudget: result } = await this.request(RemoveBudgetDocument, { period });
    if (result.__typename === 'RemoveBudgetSuccess') return;
    throw apiError(result);
  }

  /**
   * SENDER or ADMIN key (not a token). Mints a short-lived token for a browser page granting only
   * `input`'s scope: messages and a batch to read and watch, inbound messages, and sending with
   * APPROVED templates at `sendPerMinute`. Lifetime `ttlSeconds` (default 600, at most 3600).
   * Rejects with VALIDATION_FAILED, NOT_FOUND (an id not in your account) or TEMPLATE_NOT_APPROVED.
   */
  async createAccessToken(input: CreateAccessTokenInput): Promise<AccessToken> {
    const { createAccessToken: result } = await this.request(CreateAccessTokenDocument, { input });
    if (result.__typename === 'CreateAccessTokenSuccess') return result.data;
    throw apiError(result);
  }

  /** Cancels a SCHEDULED or QUEUED message; NOT_CANCELABLE once it is being sent. */
  async cancelMessage(id: string): Promise<Message> {
    return succeeded((await this.request(G.CancelMessageDocument, { id })).cancelMessage).data;
  }

  /** The account's templates, newest first; `status: 'PENDING_REVIEW'` is the review queue. */
  async templates(options: PageOptions & { status?: G.TemplateStatus } = {}): Promise<Page<Template>> {
    return pageOf((await this.request(G.ListTemplatesDocument, options)).templates);
  }

  /** Creates a DRAFT template ({{name}} marks a variable). */
  async createTemplate(input: G.CreateTemplateInput): Promise<Template> {
    return succeeded((await this.request(G.CreateTemplateDocument, { input })).createTemplate).data;
  }

  /** Changes a template (a new version; INVALID_TEMPLATE_STATE while it is PENDING_REVIEW). */
  async updateTemplate(id: string, input: G.UpdateTemplateInput): Promise<Template> {
    return succeeded((await this.request(G.UpdateTemplateDocument, { id, input })).updateTemplate).data;
  }

  /** DRAFT → PENDING_REVIEW; SENSITIVE_CONTENT when the body has a blocked word. */
  async submitTemplate(id: string): Promise<Template> {
    return succeeded((await this.request(G.SubmitTemplateDocument, { id })).submitTemplate).data;
  }

  /** ADMIN key. Approves a PENDING_REVIEW template, or rejects it with a reason. */
  async reviewTemplate(id: string, review: { approve: boolean; reason?: string }): Promise<Template> {
    return succeeded((await this.request(G.ReviewTemplateDocument, { id, approve: review.approve, reason: review.reason })).reviewTemplate).data;
  }

  /** Deletes a template (messages sent with it keep their version); returns it as it was. */
  async deleteTemplate(id: string): Promise<Template> {
    return succeeded((await this.request(G.DeleteTemplateDocument, { id })).deleteTemplate).data;
  }

  /** ADMIN key. The template's code at a template-only provider (Aliyun, Tencent); `code: null` removes it. */
  async setTemplateProviderMapping(id: string, provider: string, code: string | null, params?: string[]): Promise<Template> {
    return succeeded((await this.request(G.SetTemplateProviderMappingDocument, { id, provider, code, params })).setTemplateProviderMapping).data;
  }

  /** Messages received on the account's numbers, newest first; `from` narrows to one number. */
  async inboundMessages(options: PageOptions & { from?: string } = {}): Promise<Page<InboundMessage>> {
    return pageOf((await this.request(G.ListInboundMessagesDocument, options)).inboundMessages);
  }

  /**
   * Both directions of the exchange with one number, newest first: each entry has `at`,
   * `direction` and `node` (a Message or an InboundMessage, told apart by `__typename`).
   */
  async conversation(phone: string, page: PageOptions = {}): Promise<Page<ConversationEntry>> {
    const { conversation } = await this.request(G.ConversationDocument, { phone, ...page });
    return { items: conversation.edges, hasNextPage: conversation.pageInfo.hasNextPage, endCursor: conversation.pageInfo.endCursor ?? null };
  }

  /** ADMIN key, simulator enabled. A reply from `from` to one of your numbers, as a handset would send it. */
  async simulateInboundMessage(input: { from: string; to: string; body: string }): Promise<InboundMessage> {
    return succeeded((await this.request(G.SimulateInboundMessageDocument, input)).simulateInboundMessage).data;
  }

  /**
   * Sends a one-time code and returns the PENDING verification. Rejects with RATE_LIMITED,
   * VERIFICATION_BLOCKED (details: reason, blockedForSeconds, …), INVALID_PHONE_NUMBER, ….
   */
  async startVerification(input: G.StartVerificationInput): Promise<Verification> {
    return succeeded((await this.request(G.StartVerificationDocument, { input })).startVerification).data;
  }

  /** Checks a code: the APPROVED verification, or VERIFICATION_FAILED (details: reason, attemptsLeft). */
  async checkVerification(input: G.CheckVerificationInput): Promise<Verification> {
    return succeeded((await this.request(G.CheckVerificationDocument, { input })).checkVerification).data;
  }

  /** The account's verifications, newest first (statuses and attempts, never codes). */
  async verifications(options: PageOptions & { status?: G.VerificationStatus; to?: string } = {}): Promise<Page<Verification>> {
    return pageOf((await this.request(G.ListVerificationsDocument, options)).verifications);
  }

  /** The account's opt-out list, newest first. */
  async optOuts(page: PageOptions = {}): Promise<Page<OptOut>> {
    return pageOf((await this.request(G.ListOptOutsDocument, page)).optOuts);
  }

  /** Stops every message of the account to the number (idempotent). */
  async addOptOut(phone: string): Promise<OptOut> {
    return succeeded((await this.request(G.AddOptOutDocument, { phone })).addOptOut).data;
  }

  /** Allows messages to the number again; resolves to it in E.164 (NOT_FOUND when it was not opted out). */
  async removeOptOut(phone: string): Promise<string> {
    return succeeded((await this.request(G.RemoveOptOutDocument, { phone })).removeOptOut).data;
  }

  /** The key (or token's parent key) and account making the calls. */
  async viewer(): Promise<Viewer> {
    return (await this.request(G.ViewerDocument, {})).viewer;
  }

  /** The account's keys, newest first (revoked ones too). */
  async apiKeys(): Promise<ApiKey[]> {
    return (await this.request(G.ListApiKeysDocument, {})).apiKeys;
  }

  /** ADMIN key. A new key; `secret` is shown this once. */
  async createApiKey(name: string, role: G.ApiKeyRole): Promise<{ apiKey: ApiKey; secret: string }> {
    return succeeded((await this.request(G.CreateApiKeyDocument, { name, role })).createApiKey).data;
  }

  /** ADMIN key. Revokes a key of the account (and ends its tokens and sockets). */
  async revokeApiKey(id: string): Promise<ApiKey> {
    return succeeded((await this.request(G.RevokeApiKeyDocument, { id })).revokeApiKey).data;
  }

  /** ADMIN key. The account's sender identities (numbers and alphanumeric ids), oldest first. */
  async senderIdentities(): Promise<SenderIdentity[]> {
    return (await this.request(G.ListSenderIdentitiesDocument, {})).senderIdentities;
  }

  /** ADMIN key. Adds a number or alphanumeric sender id (adding one the account has updates it). */
  async addSenderIdentity(value: string, options: { provider?: string; isDefault?: boolean } = {}): Promise<SenderIdentity> {
    return succeeded((await this.request(G.AddSenderIdentityDocument, { value, ...options })).addSenderIdentity).data;
  }

  /** ADMIN key. Removes a sender identity. */
  async removeSenderIdentity(id: string): Promise<void> {
    succeeded((await this.request(G.RemoveSenderIdentityDocument, { id })).removeSenderIdentity);
  }

  /** Frequency limits, OTP rules and keyword replies of the account. */
  async accountSettings(): Promise<AccountSettings> {
    return (await this.request(G.GetAccountSettingsDocument, {})).accountSettings;
  }

  /** ADMIN key. Changes the fields given; the others stay. */
  async updateAccountSettings(input: G.AccountSettingsInput): Promise<AccountSettings> {
    return succeeded((await this.request(G.UpdateAccountSettingsDocument, { input })).updateAccountSettings).data;
  }

  /** The account's additions to (BLOCK) and exemptions from (ALLOW) the built-in sensitive words. */
  async sensitiveWordRules(): Promise<SensitiveWordRule[]> {
    return (await this.request(G.ListSensitiveWordRulesDocument, {})).sensitiveWordRules;
  }

  /** ADMIN key. Adds a BLOCK or ALLOW rule. */
  async addSensitiveWordRule(kind: G.SensitiveRuleKind, word: string): Promise<SensitiveWordRule> {
    return succeeded((await this.request(G.AddSensitiveWordRuleDocument, { kind, word })).addSensitiveWordRule).data;
  }

  /** ADMIN key. Removes a rule. */
  async removeSensitiveWordRule(kind: G.SensitiveRuleKind, word: string): Promise<void> {
    succeeded((await this.request(G.RemoveSensitiveWordRuleDocument, { kind, word })).removeSensitiveWordRule);
  }

  /** Runs any typed document against the API (for operations the SDK does not wrap). */
  async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    const response = await this.#fetch(this.#url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${this.#bearer}` },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    let body: { data?: TResult | null; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new HeraldApiError('BAD_RESPONSE', `HTTP ${response.status} with a body that is not JSON`, {}, response.status);
    }
    if (body.errors?.length) throw fromGraphQLErrors(body.errors, response.status);
    if (!body.data) throw new HeraldApiError('BAD_RESPONSE', `HTTP ${response.status} without data`, {}, response.status);
    return body.data;
  }
}

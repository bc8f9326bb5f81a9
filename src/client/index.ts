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
  type GetTemplateQuery,
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

export type Message = MessageFieldsFragment;
export type { BulkRecipientInput, ErrorCode, MessageFilter, MessageStatus, PreviewInput, SendMessageInput, SendMessagesInput };
export type MessagePreview = PreviewMessageQuery['previewMessage'];
export type Template = NonNullable<GetTemplateQuery['template']>;
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
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
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
}

/**
 * A failure reported by the API. `code` is the API's stable code: an `ErrorCode` such as
 * `INVALID_PHONE_NUMBER` for expected failures, or `extensions.code` (e.g. `UNAUTHENTICATED`)
 * for request-level errors. `details` holds the error type's extra fields (issues, input, …).
 */
export class HeraldApiError extends Error {
  override name = 'HeraldApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly status?: number,
  ) {
    super(message);
  }
}

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

  constructor(options: SMSClientOptions) {
    if (!options.apiKey === !options.token) throw new TypeError('SMSClient: give either apiKey or token');
    this.#url = options.url;
    this.#bearer = (options.apiKey ?? options.token)!;
    this.#fetch = options.fetch ?? globalThis.fetch;
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
    if (body.errors?.length) {
      const [first] = body.errors;
      throw new HeraldApiError(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', first.message, { errors: body.errors }, response.status);
    }
    if (!body.data) throw new HeraldApiError('BAD_RESPONSE', `HTTP ${response.status} without data`, {}, response.status);
    return body.data;
  }
}

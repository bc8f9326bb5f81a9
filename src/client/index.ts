// Herald's typed client SDK. Operations live in operations.graphql; their types are generated
// from the committed schema.graphql by `npm run generate` (codegen.ts).
import {
  GetMessageDocument,
  ListMessagesDocument,
  PreviewMessageDocument,
  SendMessageDocument,
  type MessageFieldsFragment,
  type MessageFilter,
  type PreviewInput,
  type PreviewMessageQuery,
  type SendMessageInput,
  type TypedDocumentString,
} from './generated/graphql.js';

export type Message = MessageFieldsFragment;
export type { MessageFilter, PreviewInput, SendMessageInput };
export type MessagePreview = PreviewMessageQuery['previewMessage'];

export interface SMSClientOptions {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** An API key (`hk_…`). */
  apiKey: string;
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

export interface SendSMSOptions extends Omit<SendMessageInput, 'body'> {
  /** The text to send (SendMessageInput.body). */
  message?: string | null;
}

export interface MessagePage {
  messages: Message[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export class SMSClient {
  readonly #url: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: SMSClientOptions) {
    this.#url = options.url;
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Sends one message. Resolves to the stored message (status QUEUED or SCHEDULED);
   * rejects with a HeraldApiError carrying the API's code (e.g. INVALID_PHONE_NUMBER).
   */
  async sendSMS({ message, ...input }: SendSMSOptions): Promise<Message> {
    const { sendMessage } = await this.request(SendMessageDocument, { input: { ...input, body: message } });
    if (sendMessage.__typename === 'SendMessageSuccess') return sendMessage.data;
    const { __typename, code, message: text, ...details } = sendMessage;
    throw new HeraldApiError(code, text, { type: __typename, ...details });
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

  /** Encoding, segments and warnings for a body, without sending it. */
  async previewMessage(input: PreviewInput): Promise<MessagePreview> {
    return (await this.request(PreviewMessageDocument, { input })).previewMessage;
  }

  /** Runs any typed document against the API (for operations the SDK does not wrap). */
  async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    const response = await this.#fetch(this.#url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${this.#apiKey}` },
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

// Helpers for the delivery-loop tests: a dispatching Herald with fast retries, bounded waits
// (never blind sleeps), subscriptions over graphql-ws and SSE, and signed simulator webhooks.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Config } from '../../src/config/config.js';
import type { SimulatorProvider } from '../../src/providers/simulator/simulator.js';
import { createSignatureHeaders } from '../../src/providers/simulator/simulator-signature.js';
import { SIMULATOR_SECRET_KEY } from '../../src/services/secrets.js';
import { expectNoErrors, startTestHerald, type GraphQLCaller, type TestHerald } from './herald.js';

/** Retries 20–40 ms apart, three attempts: a …0002 number is FAILED well within a second. */
export const FAST_DISPATCHER: Config['dispatcher'] = {
  batchSize: 50,
  maxAttempts: 3,
  retryBaseMs: 20,
  retryMaxMs: 200,
  leaseMs: 10_000,
  pollMs: 100,
};

export function startDeliveryHerald(overrides: Partial<Config> = {}): Promise<TestHerald> {
  return startTestHerald({ dispatch: true, dispatcher: FAST_DISPATCHER, ...overrides });
}

export function simulatorOf(t: TestHerald): SimulatorProvider {
  const provider = t.herald.providers[0];
  if (provider?.name !== 'simulator') throw new Error('the first provider is not the simulator');
  return provider as SimulatorProvider;
}

export const DEFAULT_BEHAVIOUR = { duplicateReports: false, outOfOrder: false, lateByMs: 0, reportDelayMs: 50 };

export async function simulatorSecret(t: TestHerald): Promise<string> {
  return (await t.database.prisma.setting.findUniqueOrThrow({ where: { key: SIMULATOR_SECRET_KEY } })).value;
}

/** Polls `check` until it returns a truthy value (returned) or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, { timeoutMs = 5_000, intervalMs = 25, what = 'condition' } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`waitFor(${what}) timed out after ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const MESSAGE_FIELDS = /* GraphQL */ `
  id status errorCode errorMessage provider providerMessageId scheduledAt sentAt deliveredAt
  events { status source provider rawStatus errorCode applied at }
`;

const SEND = /* GraphQL */ `
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) {
      __typename
      ... on SendMessageSuccess { data { ${MESSAGE_FIELDS} } }
      ... on Error { code message }
    }
  }
`;

export interface MessageView {
  id: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  provider: string | null;
  providerMessageId: string | null;
  scheduledAt: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  events: { status: string; source: string; provider: string | null; rawStatus: string | null; errorCode: string | null; applied: boolean; at: string }[];
}

export async function send(caller: GraphQLCaller, input: Record<string, unknown>): Promise<MessageView> {
  const data = expectNoErrors(await caller(SEND, { input: { body: 'delivery loop test', ...input } }));
  if (data.sendMessage.__typename !== 'SendMessageSuccess') throw new Error(`sendMessage failed: ${JSON.stringify(data.sendMessage)}`);
  return data.sendMessage.data;
}

export async function getMessage(caller: GraphQLCaller, id: string): Promise<MessageView | null> {
  return expectNoErrors(await caller(`query($id: ID!) { message(id: $id) { ${MESSAGE_FIELDS} } }`, { id })).message;
}

const FINAL = new Set(['DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED', 'CANCELED']);

/** Polls the API until the message is in `status` (or, with no status, any final one). */
export function waitForStatus(caller: GraphQLCaller, id: string, status?: string, timeoutMs = 5_000): Promise<MessageView> {
  return waitFor(
    async () => {
      const message = await getMessage(caller, id);
      return message && (status ? message.status === status : FINAL.has(message.status)) ? message : undefined;
    },
    { timeoutMs, what: `message ${id} ${status ?? 'final'}` },
  );
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

export interface GraphQLErrorShape {
  message: string;
  extensions?: Record<string, unknown>;
}

/** What a subscription produced so far, and ways to wait on it without sleeping. */
export interface Collected<T = any> {
  values: T[];
  /** GraphQL errors (an `error` message, or `errors` in a payload). */
  errors: GraphQLErrorShape[];
  completed: boolean;
  /** Resolves when the subscription completed or errored. */
  ended: Promise<void>;
  /** Resolves with the values once there are at least `count`. */
  waitForValues(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves once `done(values)` holds. */
  waitUntil(done: (values: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  waitForEnd(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function collector<T>(pick: (data: any) => T, stop: () => Promise<void>) {
  const listeners = new Set<() => void>();
  let endIt!: () => void;
  const state: Collected<T> = {
    values: [],
    errors: [],
    completed: false,
    ended: new Promise<void>((resolve) => (endIt = resolve)),
    waitForValues: (count, timeoutMs = 5_000) =>
      until(() => state.values.length >= count || state.completed, timeoutMs, () => `${count} values (have ${JSON.stringify(state.values)})`).then(() => {
        if (state.values.length < count) throw new Error(`subscription ended with ${state.values.length} values, wanted ${count}: ${JSON.stringify({ values: state.values, errors: state.errors })}`);
        return state.values;
      }),
    waitUntil: (done, timeoutMs = 5_000) =>
      until(() => done(state.values), timeoutMs, () => `expected values (have ${JSON.stringify(state.values)})`).then(() => state.values),
    waitForEnd: (timeoutMs = 5_000) => until(() => state.completed, timeoutMs, () => `end (have ${JSON.stringify(state.values)}, errors ${JSON.stringify(state.errors)})`),
    stop,
  };
  function until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`subscription: no ${what()} within ${timeoutMs} ms`));
      }, timeoutMs);
      function check() {
        if (!done()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      }
      listeners.add(check);
    });
  }
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };
  return {
    state,
    onResult(result: { data?: any; errors?: readonly GraphQLErrorShape[] }) {
      if (result.errors?.length) state.errors.push(...result.errors);
      if (result.data) state.values.push(pick(result.data));
      changed();
    },
    onError(errors: readonly GraphQLErrorShape[]) {
      state.errors.push(...errors);
      state.completed = true;
      endIt();
      changed();
    },
    onComplete() {
      state.completed = true;
      endIt();
      changed();
    },
  };
}

export function wsClient(url: string, key: string): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
}

/** Subscribes over graphql-ws; `pick` takes the value out of each payload's data. */
export function subscribeWs<T = any>(client: Client, query: string, variables: Record<string, unknown>, pick: (data: any) => T): Collected<T> {
  let unsubscribe: () => void = () => {};
  const c = collector(pick, async () => unsubscribe());
  unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (result) => c.onResult(result as never),
      error: (error) => {
        // A GraphQL error list, or a CloseEvent / Error when the socket failed.
        if (Array.isArray(error)) c.onError(error);
        else c.onError([{ message: `socket error: ${String((error as { reason?: string; message?: string }).reason ?? (error as Error).message ?? error)}`, extensions: { code: 'SOCKET' } }]);
      },
      complete: () => c.onComplete(),
    },
  );
  return c.state;
}

/** Subscribes over SSE (POST /graphql, Accept: text/event-stream), reading until `event: complete`. */
export function subscribeSse<T = any>(url: string, key: string, query: string, variables: Record<string, unknown>, pick: (data: any) => T): Collected<T> {
  const abort = new AbortController();
  const c = collector(pick, async () => abort.abort());
  void (async () => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      });
      if (!response.ok || !response.body) {
        c.onError([{ message: `HTTP ${response.status}: ${await response.text()}`, extensions: { code: 'HTTP' } }]);
        return;
      }
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (event === 'complete') {
            c.onComplete();
            return;
          }
          if (data.length) c.onResult(JSON.parse(data.join('\n')));
        }
      }
      c.onError([{ message: 'SSE stream ended without `event: complete`', extensions: { code: 'SSE' } }]);
    } catch (error) {
      if (!abort.signal.aborted) c.onError([{ message: String(error), extensions: { code: 'SSE' } }]);
    }
  })();
  return c.state;
}

export const STATUS_CHANGED = /* GraphQL */ `
  subscription Follow($id: ID!) { messageStatusChanged(id: $id) { id status } }
`;

export const MESSAGE_EVENTS = /* GraphQL */ `
  subscription Events($filter: MessageEventFilter) { messageEvents(filter: $filter) { id status } }
`;

// ---------------------------------------------------------------------------------------------
// Webhooks

export const STATUS_WEBHOOK = '/webhooks/simulator/status';

type WebhookRequest = { path?: string; body: string | Buffer; secret?: string; signedAt?: Date; headers?: Record<string, string>; signBody?: string | Buffer };

/** POSTs `body` to a webhook path of `t`, signed with `secret` at `signedAt` unless headers are given; the raw answer. */
export function sendWebhook(t: TestHerald, options: WebhookRequest): Promise<Response> {
  const raw = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
  const signed = options.secret
    ? createSignatureHeaders(options.secret, options.signBody !== undefined ? Buffer.from(options.signBody) : raw, options.signedAt ?? new Date())
    : {};
  return fetch(`${t.herald.url}${options.path ?? STATUS_WEBHOOK}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed, ...options.headers },
    body: new Uint8Array(raw),
  });
}

/** sendWebhook's answer as its status and body (JSON when it parses). */
export async function postWebhook(t: TestHerald, options: WebhookRequest): Promise<{ status: number; json: any }> {
  const response = await sendWebhook(t, options);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** A simulator status report body, as the simulator sends it. */
export function reportBody(fields: { reference: string; providerMessageId: string; status: string; errorCode?: string; timestamp?: string }): string {
  return JSON.stringify({ timestamp: new Date().toISOString(), ...fields });
}

/** The database id inside a Relay global id (what provider reports carry as `reference`). */
export function rawId(globalId: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const [typename, id] = decoded.split(':');
  if (typename !== 'Message' || !id) throw new Error(`not a Message global id: ${globalId}`);
  return id;
}

/** Resolves once `client` has a connected, authenticated socket (one query answered). */
export function wsReady(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe({ query: '{ viewer { account { id } } }' }, { next: () => {}, error: reject, complete: resolve });
  });
}

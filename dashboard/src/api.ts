// The page's only channel to Herald: GraphQL over HTTP for queries and mutations, graphql-ws
// for subscriptions, both on this same host and both authenticated with the signed-in key.
import { createClient, type Client } from 'graphql-ws';

const KEY = 'herald.apiKey';
export const storedKey = (): string | null => sessionStorage.getItem(KEY);
export const storeKey = (key: string | null): void => (key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY));

/** A request-level failure; `codes` are the errors' `extensions.code` (FORBIDDEN, …). */
export class ApiError extends Error {
  constructor(message: string, readonly codes: string[] = []) {
    super(message);
  }
}

/** Runs one operation; GraphQL errors (unexpected ones, such as a bad key) become ApiError. */
export async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${storedKey() ?? ''}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json().catch(() => null)) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  if (!result) throw new ApiError(`HTTP ${response.status}`);
  if (result.errors?.length) {
    throw new ApiError(result.errors.map((e) => e.message).join('; '), result.errors.flatMap((e) => (e.extensions?.code ? [e.extensions.code] : [])));
  }
  return result.data as T;
}

let client: Client | null = null;
let stopEvents: (() => void) | null = null;
const liveListeners = new Set<(live: boolean) => void>();
const eventListeners = new Set<(m: any) => void>();
let isLive = false;

/** Whether the socket is connected, now and on every change (the header's badge). */
export function onLive(listener: (live: boolean) => void): () => void {
  liveListeners.add(listener);
  listener(isLive);
  return () => void liveListeners.delete(listener);
}

/** Every message change of the account (`messageEvents`), and a call on each (re)connection
 * (`null`) so a page can catch up on what happened while the socket was down. */
export function onMessageEvent<T>(listener: (m: T | null) => void): () => void {
  eventListeners.add(listener);
  return () => void eventListeners.delete(listener);
}

/** One socket and one `messageEvents` subscription for the whole console, started at sign-in. */
export function startLive(fields: string): void {
  if (client) return;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const setLive = (live: boolean) => {
    isLive = live;
    for (const l of liveListeners) l(live);
    if (live) for (const l of eventListeners) l(null);
  };
  client = createClient({
    url,
    connectionParams: () => ({ authorization: `Bearer ${storedKey() ?? ''}` }),
    // Keep trying after a restart of Herald or a network blip: pages catch up on reconnect.
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: { connected: () => setLive(true), closed: () => setLive(false) },
  });
  stopEvents = client.subscribe<{ messageEvents: unknown }>({ query: `subscription { messageEvents { ${fields} } }` }, {
    next: ({ data }) => { if (data) for (const l of eventListeners) l(data.messageEvents); },
    error: () => setLive(false),
    complete: () => undefined,
  });
}

/** Another subscription on the console's socket (started at sign-in); returns its stop. */
export function subscribe<T>(query: string, next: (data: T) => void): () => void {
  if (!client) return () => undefined;
  return client.subscribe<T>({ query }, {
    next: ({ data }) => void (data && next(data as T)),
    error: () => undefined,
    complete: () => undefined,
  });
}

export function closeWs(): void {
  stopEvents?.();
  void client?.dispose();
  client = null;
  stopEvents = null;
}

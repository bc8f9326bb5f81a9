// The page's only channel to Herald: GraphQL over HTTP for queries and mutations, graphql-ws
// for subscriptions, both on this same host and both authenticated with the signed-in key.
import { createClient, type Client } from 'graphql-ws';

const KEY = 'herald.apiKey';
export const storedKey = (): string | null => sessionStorage.getItem(KEY);
export const storeKey = (key: string | null): void => (key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY));

export class ApiError extends Error {}

/** Runs one operation; GraphQL errors (unexpected ones, such as a bad key) become ApiError. */
export async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${storedKey() ?? ''}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json().catch(() => null)) as { data?: T; errors?: { message: string }[] } | null;
  if (!result) throw new ApiError(`HTTP ${response.status}`);
  if (result.errors?.length) throw new ApiError(result.errors.map((e) => e.message).join('; '));
  return result.data as T;
}

let client: Client | null = null;

/** One socket for the page's subscriptions; `onLive` tells whether it is connected. */
export function wsClient(onLive: (live: boolean) => void): Client {
  if (client) return client;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  client = createClient({
    url,
    connectionParams: () => ({ authorization: `Bearer ${storedKey() ?? ''}` }),
    // Keep trying after a restart of Herald or a network blip: the table catches up on reconnect.
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: { connected: () => onLive(true), closed: () => onLive(false) },
  });
  return client;
}

export function closeWs(): void {
  void client?.dispose();
  client = null;
}

// GraphQL over HTTP and graphql-ws for the chaos scenarios, keeping the raw HTTP status: a
// scenario counts clean errors (5xx, GraphQL errors) apart from crashes and leaked internals.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLAnswer {
  /** 0 when no HTTP answer came at all (connection refused or reset). */
  status: number;
  body: string;
  json: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } | undefined;
}

export async function graphql(baseUrl: string, key: string, query: string, variables: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<GraphQLAnswer> {
  try {
    const res = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    let json;
    try {
      json = JSON.parse(body) as GraphQLAnswer['json'];
    } catch {
      json = undefined;
    }
    return { status: res.status, body, json };
  } catch (error) {
    return { status: 0, body: (error as Error).message, json: undefined };
  }
}

export const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id } } ... on Error { code message } } }`;
export const SEND_MANY = `mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename ... on SendMessagesSuccess { batchId accepted { id } rejected { index code } } ... on Error { code message } } }`;

/** The message id of a successful sendMessage answer, else undefined. */
export function sentId(answer: GraphQLAnswer): string | undefined {
  return answer.json?.data?.sendMessage?.data?.id as string | undefined;
}

/** Herald's global ids are base64 `Message:<uuid>`; the database holds the uuid. */
export function rawId(id: string): string {
  const decoded = Buffer.from(id, 'base64').toString();
  return decoded.startsWith('Message:') ? decoded.slice('Message:'.length) : id;
}

/** What an error answer must never contain: stack frames, SQL, driver internals. */
export function leaksInternals(body: string): boolean {
  return /\bat [\w.<>]+ \(|node_modules|\bSELECT\b|\bINSERT\b|\bUPDATE\b|prisma|ECONNREFUSED|57P01|pg_/i.test(body);
}

export function wsClient(baseUrl: string, key: string, options: { retryAttempts?: number } = {}): Client {
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: options.retryAttempts ?? 0,
    lazy: true,
  });
}

/** Subscribes; `onNext` gets each `data`; resolves when the subscription completes, rejects on error. */
export function subscribe(client: Client, query: string, variables: Record<string, unknown>, onNext: (data: any) => void): { done: Promise<void>; cancel: () => void } {
  let cancel = () => {};
  const done = new Promise<void>((resolve, reject) => {
    cancel = client.subscribe({ query, variables }, { next: (r) => onNext(r.data), error: reject, complete: resolve });
  });
  return { done, cancel };
}

// The page: asks the example's backend to send (it holds the key), then follows the message's
// status straight from Herald, on Herald's origin, with the access token the backend minted.
// urql does the GraphQL; its subscriptions go over graphql-ws, authenticated in connectionParams.
// The token is short-lived: before it expires the page gets the next one from the backend and
// reconnects with it (Herald closes a token's socket when the token expires).
import { Client, fetchExchange, subscriptionExchange, type AnyVariables, type OperationResult } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

interface SendAnswer {
  messageId: string;
  status: string;
  token: string;
  expiresAt: string;
  renewal: string;
  graphqlUrl: string;
  wsUrl: string;
}

/** A token's remaining lifetime at which the next one is fetched: at 3/4 of it, so a slow backend still has time. */
const RENEW_AT = 0.75;
const FINAL = new Set(['DELIVERED', 'UNDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED', 'CANCELED']);

interface WatchedMessage {
  id: string;
  status: string;
  events: { status: string; at: string; source: string; errorCode: string | null }[];
}

const WATCH = `subscription Watch($id: ID!) {
  messageStatusChanged(id: $id) { id status events { status at source errorCode } }
}`;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const form = $<HTMLFormElement>('#send');

/**
 * One urql client per sent message (a token is scoped to one message). Both transports read the
 * token in force when they need it: urql for each request, graphql-ws for each connection.
 */
function heraldClient(answer: SendAnswer): { client: Client; renewed(token: string): void; dispose(): void } {
  let authorization = `Bearer ${answer.token}`;
  let renewing = false;
  const ws: WsClient = createWsClient({
    url: answer.wsUrl,
    connectionParams: () => ({ authorization }),
    // After a renewal the socket is ended on purpose: reconnect at once (else graphql-ws's backoff).
    retryWait: async (retries) => {
      if (renewing) return void (renewing = false);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 30_000) * (1 + Math.random())));
    },
    // Shown in the page: a refused upgrade (an origin missing from Herald's CORS_ORIGINS) or an
    // expired token would otherwise look like a status that never changes.
    on: {
      connected: () => showConnection('live'),
      closed: (event) => showConnection('closed', (event as CloseEvent).code, (event as CloseEvent).reason),
    },
  });
  const client = new Client({
    url: answer.graphqlUrl,
    // POST with a JSON body: Herald's CSRF protection refuses a simple GET from a page.
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => ({ headers: { authorization } }),
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
      fetchExchange,
    ],
  });
  return {
    client,
    renewed(token) {
      authorization = `Bearer ${token}`;
      // The socket was opened with the old token and Herald closes it when that one expires:
      // open the next one now. graphql-ws subscribes again on it, and messageStatusChanged
      // starts with the current state, so a status reached meanwhile is still shown.
      renewing = true;
      ws.terminate();
    },
    dispose: () => void ws.dispose(),
  };
}

/**
 * Renews the token before each expiry until `stop()`: the backend mints the next one for the
 * message its renewal ticket names. A failed renewal is shown; the page keeps the old token until it expires.
 */
function renewBeforeExpiry(answer: SendAnswer, renewed: (token: string) => void): { stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let renewals = 0;
  const schedule = (expiresAt: string, issued = Date.now()) => {
    timer = setTimeout(renew, Math.max(500, (Date.parse(expiresAt) - issued) * RENEW_AT));
  };
  async function renew() {
    const response = await fetch('/api/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messageId: answer.messageId, renewal: answer.renewal }),
    }).catch(() => undefined);
    const body = (await response?.json().catch(() => ({}))) as { token?: string; expiresAt?: string; error?: { code: string; message: string } } | undefined;
    if (!response?.ok || !body?.token || !body.expiresAt) return showError(`the token could not be renewed: ${body?.error ? `${body.error.code}: ${body.error.message}` : 'no answer'}`);
    $('#renewals').textContent = String(++renewals);
    renewed(body.token);
    schedule(body.expiresAt);
  }
  schedule(answer.expiresAt);
  return { stop: () => clearTimeout(timer) };
}

let current: { dispose(): void; unsubscribe(): void } | undefined;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  showError(undefined);
  const response = await fetch('/api/send', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to: data.get('to'), text: data.get('text') }),
  }).catch(() => undefined);
  if (!response) return showError('the example backend cannot be reached');
  const body = (await response.json().catch(() => ({}))) as SendAnswer & { error?: { code: string; message: string } };
  if (!response.ok || body.error) return showError(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
  watch(body);
});

function watch(answer: SendAnswer) {
  current?.unsubscribe();
  current?.dispose();
  const { client, renewed, dispose } = heraldClient(answer);
  const renewal = renewBeforeExpiry(answer, renewed);
  // Exposed for the browser console (and the example's test): the page's own client, holding
  // only the token, e.g. to see that another message id is refused.
  (window as unknown as { sendAndWatch: unknown }).sendAndWatch = { client, messageId: answer.messageId };

  $('#watch').hidden = false;
  $('#message-id').textContent = answer.messageId;
  $('#history').textContent = '';
  $('#timeline').replaceChildren();
  $('#connection').textContent = 'connecting';
  $('#renewals').textContent = '0';
  // The status the send answered first (QUEUED), so the whole way to DELIVERED is shown.
  const seen: string[] = [answer.status];
  render({ id: answer.messageId, status: answer.status, events: [] }, seen);
  // The subscription yields the current state first, then each transition, and completes after
  // a final status: nothing is missed between the send and the subscription starting.
  const { unsubscribe } = client.subscription(WATCH, { id: answer.messageId }).subscribe((result: OperationResult<{ messageStatusChanged: WatchedMessage }, AnyVariables>) => {
    if (result.error) return showError(result.error.message);
    const message = result.data!.messageStatusChanged;
    if (seen.at(-1) !== message.status) seen.push(message.status);
    render(message, seen);
    if (FINAL.has(message.status)) renewal.stop();
  });
  current = {
    dispose: () => {
      renewal.stop();
      dispose();
    },
    unsubscribe,
  };
}

function render(message: WatchedMessage, seen: string[]) {
  const status = $('#status');
  status.textContent = message.status;
  status.dataset.status = message.status;
  $('#history').textContent = seen.join(' → ');
  $('#timeline').replaceChildren(
    ...message.events.map((e) => {
      const li = document.createElement('li');
      li.textContent = `${e.status} at ${new Date(e.at).toLocaleTimeString()} (${e.source}${e.errorCode ? `, ${e.errorCode}` : ''})`;
      return li;
    }),
  );
}

function showConnection(state: 'live' | 'closed', code?: number, reason?: string) {
  const connection = $('#connection');
  connection.dataset.state = state;
  connection.dataset.code = code === undefined ? '' : String(code);
  // 1000 is graphql-ws closing the socket itself once the message reached a final status; 4499
  // is the page ending it to reconnect with a renewed token.
  connection.textContent =
    state === 'live' ? 'live' : code === 1000 ? 'done' : code === 4499 ? 'reconnecting with a new token' : `closed (${code}${reason ? `: ${reason}` : ''})`;
}

function showError(text: string | undefined) {
  const error = $('#error');
  error.hidden = !text;
  error.textContent = text ?? '';
}

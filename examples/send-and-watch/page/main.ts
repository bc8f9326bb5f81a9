// The page: asks the example's backend to send (it holds the key), then follows the message's
// status straight from Herald, on Herald's origin, with the access token the backend minted.
// urql does the GraphQL; its subscriptions go over graphql-ws, authenticated in connectionParams.
import { Client, fetchExchange, subscriptionExchange, type AnyVariables, type OperationResult } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

interface SendAnswer {
  messageId: string;
  status: string;
  token: string;
  graphqlUrl: string;
  wsUrl: string;
}

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

/** One urql client per token: a token is scoped to one message, so a new send gets a new client. */
function heraldClient(answer: SendAnswer): { client: Client; dispose(): void } {
  const authorization = `Bearer ${answer.token}`;
  const ws: WsClient = createWsClient({
    url: answer.wsUrl,
    connectionParams: { authorization },
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
    fetchOptions: { headers: { authorization } },
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
      fetchExchange,
    ],
  });
  return { client, dispose: () => void ws.dispose() };
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
  const { client, dispose } = heraldClient(answer);
  // Exposed for the browser console (and the example's test): the page's own client, holding
  // only the token, e.g. to see that another message id is refused.
  (window as unknown as { sendAndWatch: unknown }).sendAndWatch = { client, messageId: answer.messageId };

  $('#watch').hidden = false;
  $('#message-id').textContent = answer.messageId;
  $('#history').textContent = '';
  $('#timeline').replaceChildren();
  $('#connection').textContent = 'connecting';
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
  });
  current = { dispose, unsubscribe };
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
  // 1000 is graphql-ws closing the socket itself once the message reached a final status.
  connection.textContent = state === 'live' ? 'live' : code === 1000 ? 'done' : `closed (${code}${reason ? `: ${reason}` : ''})`;
}

function showError(text: string | undefined) {
  const error = $('#error');
  error.hidden = !text;
  error.textContent = text ?? '';
}

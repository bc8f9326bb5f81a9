// A subscriber worker of the fan-out benchmark (a child process, driven over IPC): opens one
// WebSocket per subscriber, each following one message — over graphql-ws
// (`messageStatusChanged(id)`) against Herald, or the bare protocol of bare-server.ts against
// the baseline — and records when each status change arrives.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { clock, STEPS, type Subscriber, type WorkerCommand, type WorkerReply } from './protocol.js';

const SUBSCRIPTION = 'subscription Follow($id: ID!) { messageStatusChanged(id: $id) { id status } }';
const CONNECT_TIMEOUT_MS = 20_000;

const receipts: number[] = [];
let received = 0;
let errors = 0;
let firstError: string | undefined;
const closers: (() => void)[] = [];

const send = (reply: WorkerReply) => process.send!(reply);
const fail = (error: unknown) => {
  errors++;
  firstError ??= error instanceof Error ? error.message : Array.isArray(error) ? JSON.stringify(error).slice(0, 300) : String((error as { reason?: string })?.reason ?? JSON.stringify(error)).slice(0, 300);
};

function record(subscriber: Subscriber, status: string): void {
  const step = STEPS.indexOf(status as (typeof STEPS)[number]);
  if (step < 0) return;
  receipts.push(subscriber.index, step, clock());
  received++;
}

/** Resolves once the subscription is live (its first payload, the current state, arrived). */
function followOverGraphqlWs(url: string, subscriber: Subscriber): Promise<void> {
  return new Promise((resolve, reject) => {
    let live = false;
    const client: Client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${subscriber.key}` },
      retryAttempts: 0,
      lazy: true,
      keepAlive: 0,
    });
    closers.push(() => void client.dispose());
    client.subscribe<{ messageStatusChanged: { id: string; status: string } }>(
      { query: SUBSCRIPTION, variables: { id: subscriber.messageId } },
      {
        next: ({ data, errors: gqlErrors }) => {
          if (gqlErrors?.length) return fail(gqlErrors);
          if (!live) {
            live = true;
            return resolve();
          }
          record(subscriber, data!.messageStatusChanged.status);
        },
        error: (error) => {
          fail(error);
          if (!live) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => {},
      },
    );
  });
}

function followOverBareWs(url: string, subscriber: Subscriber): Promise<void> {
  return new Promise((resolve, reject) => {
    let live = false;
    const socket = new WebSocket(url);
    closers.push(() => socket.terminate());
    socket.on('open', () => socket.send(JSON.stringify({ id: subscriber.messageId })));
    socket.on('message', (data) => {
      const { status } = JSON.parse(String(data)) as { id: string; status: string };
      if (status === 'SUBSCRIBED') {
        live = true;
        return resolve();
      }
      record(subscriber, status);
    });
    socket.on('error', (error) => {
      fail(error);
      if (!live) reject(error);
    });
  });
}

async function connectAll(command: Extract<WorkerCommand, { type: 'connect' }>): Promise<void> {
  const started = clock();
  const follow = command.mode === 'herald' ? followOverGraphqlWs : followOverBareWs;
  let next = 0;
  let ok = 0;
  let failed = 0;
  let connectError: string | undefined;
  // A bounded number of handshakes in flight, so the server is not stampeded.
  await Promise.all(
    Array.from({ length: Math.min(command.concurrency, command.subscribers.length) }, async () => {
      while (next < command.subscribers.length) {
        const subscriber = command.subscribers[next++]!;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('subscription not live after 20 s')), CONNECT_TIMEOUT_MS)));
        try {
          await Promise.race([follow(command.url, subscriber), timeout]);
          ok++;
        } catch (error) {
          failed++;
          connectError ??= (error as Error).message;
        } finally {
          clearTimeout(timer);
        }
      }
    }),
  );
  send({ type: 'connected', ok, failed, firstError: connectError ?? firstError, seconds: (clock() - started) / 1000 });
}

process.on('message', (command: WorkerCommand) => {
  if (command.type === 'connect') void connectAll(command);
  else if (command.type === 'count') send({ type: 'count', received, errors, firstError });
  else if (command.type === 'finish') {
    for (const close of closers) close();
    process.send!({ type: 'receipts', receipts, errors, firstError } satisfies WorkerReply, undefined, {}, () => process.exit(0));
  }
});
// The scenario went away (crashed or was killed): do not linger.
process.on('disconnect', () => process.exit(0));

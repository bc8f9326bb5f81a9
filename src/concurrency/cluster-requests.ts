// Questions between the processes of one Herald on one machine (app/cluster.ts) over Node's
// cluster IPC channel: a worker asks the primary (the providers' health, which only the
// dispatching primary knows; a whole-cluster /metrics scrape), the primary asks a worker (its
// own metrics, the send-limit counts of a turn). A question may carry a value (JSON-serialisable).
// One answer per question, matched by id; no answer within the timeout is `undefined`, so a
// process that died or hangs never blocks the one asking.
import cluster, { type Worker } from 'node:cluster';

const CHANNEL = 'herald-ask';
const DEFAULT_TIMEOUT_MS = 3_000;

type Message = { channel: typeof CHANNEL; id: number; topic: string } & ({ kind: 'ask'; value?: unknown } | { kind: 'answer'; value: unknown });

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && (m as Message).channel === CHANNEL;

/** Questions waiting for their answer, by id (one table and one id sequence per process). */
const waiting = new Map<number, (value: unknown) => void>();
let lastId = 0;

function ask<T>(send: (message: Message) => void, topic: string, timeoutMs: number, value: unknown): Promise<T | undefined> {
  const id = ++lastId;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      resolve(undefined);
    }, timeoutMs);
    waiting.set(id, (value) => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve(value as T);
    });
    send({ channel: CHANNEL, id, topic, kind: 'ask', ...(value !== undefined && { value }) });
  });
}

/** What this process answers, by topic; `from` is the asking worker (in the primary). */
type Handler = (from: Worker | undefined, value: unknown) => Promise<unknown> | unknown;
const topics = new Map<string, Handler>();
let listening = false;

/** One listener per process takes both the questions it answers and the answers it waits for. */
function listen(): void {
  if (listening) return;
  listening = true;
  const receive = async (message: unknown, reply: (m: Message) => void, from: Worker | undefined) => {
    if (!isMessage(message)) return;
    if (message.kind === 'answer') return waiting.get(message.id)?.(message.value);
    const handler = topics.get(message.topic);
    if (!handler) return;
    reply({ channel: CHANNEL, id: message.id, topic: message.topic, kind: 'answer', value: await handler(from, message.value) });
  };
  if (cluster.isPrimary) cluster.on('message', (worker, message) => void receive(message, (m) => worker.isConnected() && worker.send(m), worker));
  else process.on('message', (message) => void receive(message, (m) => process.connected && process.send!(m), undefined));
}

/** Worker side: asks the primary, with `value` if given. */
export function askPrimary<T>(topic: string, timeoutMs = DEFAULT_TIMEOUT_MS, value?: unknown): Promise<T | undefined> {
  listen();
  if (!process.connected) return Promise.resolve(undefined);
  return ask((m) => process.send!(m), topic, timeoutMs, value);
}

/** Primary side: asks one worker. */
export function askWorker<T>(worker: Worker, topic: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T | undefined> {
  listen();
  if (!worker.isConnected()) return Promise.resolve(undefined);
  return ask((m) => worker.send(m), topic, timeoutMs, undefined);
}

/** Answers the other side's questions on these topics (in the primary: any worker's). Returns the stop. */
export function answer(handlers: Record<string, Handler>): () => void {
  listen();
  for (const [topic, handler] of Object.entries(handlers)) topics.set(topic, handler);
  return () => {
    for (const [topic, handler] of Object.entries(handlers)) if (topics.get(topic) === handler) topics.delete(topic);
  };
}

/** The connected workers of this primary. */
export function connectedWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
}

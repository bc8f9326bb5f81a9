// Carries pub/sub events between the processes of one Herald on one machine (the processes that
// `npm start` runs on PostgreSQL without REDIS_URL, app/cluster.ts) over Node's cluster IPC
// channel. A worker's events go to the primary, which hands them to its own listeners and to
// every other worker; the primary's go to every worker. With REDIS_URL, Redis does this instead
// (redis-transport.ts), across machines too.
//
// Events are encoded as the Redis transport encodes them (JSON of the event's detail). The events of one turn of the event loop
// travel in one IPC message: a dispatcher recording a batch publishes hundreds at once, and each
// message is a write on the pipe and a parse in every process.
import cluster, { type Worker } from 'node:cluster';

const CHANNEL = 'herald-pubsub';

type Carried = [topic: string, detail: unknown];

interface Envelope {
  channel: typeof CHANNEL;
  events: Carried[];
}

const isEnvelope = (message: unknown): message is Envelope =>
  typeof message === 'object' && message !== null && (message as Envelope).channel === CHANNEL && Array.isArray((message as Envelope).events);

/**
 * An event target whose dispatches also leave for the other processes. `send` gets the events
 * of one turn; `receive` dispatches events that came from elsewhere, here only.
 */
function createForwardingTarget(send: (envelope: Envelope) => void) {
  let queued: Carried[] = [];
  const flush = () => {
    const envelope: Envelope = { channel: CHANNEL, events: queued };
    queued = [];
    send(envelope);
  };
  class ForwardingTarget extends EventTarget {
    override dispatchEvent(event: Event): boolean {
      if (queued.length === 0) setImmediate(flush);
      // Details are plain ids and words (pubsub/events.ts): what JSON carries, listeners here
      // and elsewhere see alike.
      queued.push([event.type, (event as CustomEvent).detail]);
      return super.dispatchEvent(event);
    }
    receive(envelope: Envelope): void {
      for (const [topic, detail] of envelope.events) super.dispatchEvent(new CustomEvent(topic, { detail }));
    }
  }
  return new ForwardingTarget();
}

/** In a cluster worker: events to and from the primary. */
export function connectWorkerTransport(): { eventTarget: EventTarget; close(): void } {
  const target = createForwardingTarget((envelope) => {
    // The primary going away ends this worker (app/cluster.ts); until then a send cannot fail
    // for any other reason, and a lost event is what pub/sub promises anyway (at most once).
    if (process.connected) process.send!(envelope);
  });
  const onMessage = (message: unknown) => {
    if (isEnvelope(message)) target.receive(message);
  };
  process.on('message', onMessage);
  return { eventTarget: target, close: () => void process.off('message', onMessage) };
}

/** In the cluster primary: relays every worker's events to the others and to itself. */
export function startPrimaryRelay(): { eventTarget: EventTarget; close(): void } {
  const sendTo = (envelope: Envelope, except?: Worker) => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== except && worker.isConnected()) worker.send(envelope);
    }
  };
  const target = createForwardingTarget((envelope) => sendTo(envelope));
  const onMessage = (worker: Worker, message: unknown) => {
    if (!isEnvelope(message)) return;
    sendTo(message, worker);
    target.receive(message);
  };
  cluster.on('message', onMessage);
  return { eventTarget: target, close: () => void cluster.off('message', onMessage) };
}

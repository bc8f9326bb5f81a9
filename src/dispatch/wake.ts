import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from '../logging/logger.js';

const CHANNEL = 'herald_dispatch';

/**
 * "There is new work": wakes the dispatcher at once instead of at its next poll. In-process
 * always; with PostgreSQL also through LISTEN/NOTIFY, so a message accepted by one instance
 * wakes the dispatchers of all of them.
 */
export interface WakeSignal {
  notify(): void;
  onWake(listener: () => void): () => void;
  close(): Promise<void>;
}

export async function createWakeSignal(options: { databaseUrl: string | undefined; logger: Logger }): Promise<WakeSignal> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let listener: pg.Client | undefined;
  let notifier: pg.Client | undefined;
  let closed = false;
  // One NOTIFY in flight at a time; wake-ups during it coalesce into one more.
  let notifying = false;
  let notifyAgain = false;
  const sendNotify = (): void => {
    if (!notifier) return;
    if (notifying) {
      notifyAgain = true;
      return;
    }
    notifying = true;
    notifier
      .query(`NOTIFY ${CHANNEL}`)
      .catch(() => {})
      .finally(() => {
        notifying = false;
        if (notifyAgain) {
          notifyAgain = false;
          sendNotify();
        }
      });
  };

  if (options.databaseUrl) {
    const url = options.databaseUrl;
    const retryMs = 1_000;
    // Both connections come back by themselves after PostgreSQL restarts: a failed reconnect
    // (the server still starting) tries again, instead of leaving this instance deaf to other
    // instances' wake-ups (and them to its own) until it is restarted.
    const connectListener = async (): Promise<void> => {
      const client = new pg.Client({ connectionString: url });
      client.on('notification', () => emitter.emit('wake'));
      let lost = false;
      const reconnect = (error: unknown) => {
        if (lost) return; // one connection, one reconnect (pg may report its loss twice)
        lost = true;
        if (listener === client) listener = undefined;
        client.end().catch(() => {});
        if (closed) return;
        options.logger.warn({ err: error }, 'dispatch LISTEN connection lost; reconnecting');
        setTimeout(() => void connectListener().catch(reconnectLater), retryMs).unref();
      };
      const reconnectLater = () => {
        if (!closed) setTimeout(() => void connectListener().catch(reconnectLater), retryMs).unref();
      };
      client.on('error', reconnect);
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
      } catch (error) {
        lost = true;
        client.end().catch(() => {});
        throw error;
      }
      if (closed) return void client.end().catch(() => {});
      listener = client;
      emitter.emit('wake'); // anything sent while we were not listening
    };
    await connectListener();
    const connectNotifier = async (): Promise<void> => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', (error) => {
        if (notifier !== client) return;
        options.logger.warn({ err: error }, 'dispatch NOTIFY connection lost; reconnecting');
        notifier = undefined;
        client.end().catch(() => {});
        scheduleNotifier();
      });
      try {
        await client.connect();
      } catch (error) {
        client.end().catch(() => {});
        throw error;
      }
      if (closed) return void client.end().catch(() => {});
      notifier = client;
    };
    const scheduleNotifier = () => {
      if (!closed) setTimeout(() => void connectNotifier().catch(scheduleNotifier), retryMs).unref();
    };
    await connectNotifier();
  }

  return {
    notify() {
      emitter.emit('wake');
      // Best effort: the poll is the safety net when a NOTIFY is lost.
      sendNotify();
    },
    onWake(fn) {
      emitter.on('wake', fn);
      return () => emitter.off('wake', fn);
    },
    async close() {
      closed = true;
      await Promise.all([listener?.end().catch(() => {}), notifier?.end().catch(() => {})]);
    },
  };
}

import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger.js';
import { PostgresWakeChannel } from '../store/wake-channel.js';

/**
 * "There is new work": wakes the dispatcher at once instead of at its next poll. In-process
 * always; with PostgreSQL also through LISTEN/NOTIFY (store/wake-channel.ts), so a message
 * accepted by one instance wakes the dispatchers of all of them.
 */
export interface WakeSignal {
  notify(): void;
  onWake(listener: () => void): () => void;
  close(): Promise<void>;
}

export async function createWakeSignal(options: { databaseUrl: string | undefined; logger: Logger }): Promise<WakeSignal> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const channel = options.databaseUrl ? await PostgresWakeChannel.open(options.databaseUrl, () => emitter.emit('wake'), options.logger) : undefined;
  return {
    notify() {
      emitter.emit('wake');
      // Best effort: the poll is the safety net when a NOTIFY is lost.
      channel?.notify();
    },
    onWake(fn) {
      emitter.on('wake', fn);
      return () => emitter.off('wake', fn);
    },
    close: async () => channel?.close(),
  };
}

// PostgreSQL's LISTEN/NOTIFY as a "there is new work" channel between Herald instances: one
// connection listens, one notifies (a connection that LISTENs is kept free of other work). Both
// come back by themselves after PostgreSQL restarts: a failed reconnect (the server still
// starting) tries again, instead of leaving this instance deaf to other instances' wake-ups (and
// them to its own) until it is restarted. It carries no data: the poll is the safety net when a
// notification is lost.
//
// The listening connection also hears store/invalidation.ts's channel (a key revoked, an
// account's sender identities changed) and hands it to this process's caches; after each
// (re)connection they are emptied, since announcements may have been missed meanwhile.
import pg from 'pg';
import type { Logger } from '../logging/logger.js';
import { INVALIDATION_CHANNEL, receivedChange } from './invalidation.js';

const CHANNEL = 'herald_dispatch';
const RECONNECT_MS = 1_000;

export class PostgresWakeChannel {
  private listener: pg.Client | undefined;
  private notifier: pg.Client | undefined;
  private closed = false;
  // One NOTIFY in flight at a time; wake-ups during it coalesce into one more.
  private notifying = false;
  private notifyAgain = false;

  /** `onWake` is called for every notification, and once after each (re)connection. */
  private constructor(
    private readonly url: string,
    private readonly onWake: () => void,
    private readonly logger: Logger,
  ) {}

  /** Connects both connections; a first connection that fails throws (the start fails). */
  static async open(url: string, onWake: () => void, logger: Logger): Promise<PostgresWakeChannel> {
    const channel = new PostgresWakeChannel(url, onWake, logger);
    await channel.connectListener();
    await channel.connectNotifier();
    return channel;
  }

  notify(): void {
    if (!this.notifier) return;
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    this.notifier
      .query(`NOTIFY ${CHANNEL}`)
      .catch(() => {})
      .finally(() => {
        this.notifying = false;
        if (this.notifyAgain) {
          this.notifyAgain = false;
          this.notify();
        }
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.listener?.end().catch(() => {}), this.notifier?.end().catch(() => {})]);
  }

  private retryLater(connect: () => Promise<void>): void {
    const retry = () => {
      if (!this.closed) setTimeout(() => void connect().catch(retry), RECONNECT_MS).unref();
    };
    retry();
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => (message.channel === INVALIDATION_CHANNEL ? receivedChange(message.payload) : this.onWake()));
    let lost = false;
    client.on('error', (error) => {
      if (lost) return; // one connection, one reconnect (pg may report its loss twice)
      lost = true;
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      this.logger.warn({ err: error }, 'dispatch LISTEN connection lost; reconnecting');
      this.retryLater(() => this.connectListener());
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}; LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (error) {
      lost = true;
      client.end().catch(() => {});
      throw error;
    }
    if (this.closed) return void client.end().catch(() => {});
    this.listener = client;
    this.onWake(); // anything sent while we were not listening
    receivedChange(undefined);
  }

  private async connectNotifier(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', (error) => {
      if (this.notifier !== client) return;
      this.logger.warn({ err: error }, 'dispatch NOTIFY connection lost; reconnecting');
      this.notifier = undefined;
      client.end().catch(() => {});
      this.retryLater(() => this.connectNotifier());
    });
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.closed) return void client.end().catch(() => {});
    this.notifier = client;
  }
}

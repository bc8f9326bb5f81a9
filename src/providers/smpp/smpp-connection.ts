// One SMPP transceiver bind kept alive: connect, bind_transceiver, enquire_link keep-alive,
// reconnect with capped exponential backoff and jitter, and a window of at most `window`
// submit_sm awaiting their submit_sm_resp. It knows nothing of Herald messages: the adapter
// (smpp.ts) turns SubmitOutcomes into SendResults and deliver_sm into reports.

import type { Logger } from '../../logging/logger.js';
import { formatCommandStatus, isAccountStatus } from './smpp-status.js';
import { smpp, type SmppPdu, type SmppPduFields, type SmppSession } from './smpp-session.js';

export interface SmppEndpoint {
  host: string;
  port: number;
  tls: boolean;
  systemId: string;
  password: string;
}

/** `smpp://system_id:password@host:port` (`smpps://` for TLS); user and password may be %-encoded. */
export function parseSmppUrl(url: string): SmppEndpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== 'smpp:' && parsed.protocol !== 'smpps:') throw new Error('smpp: SMPP_URL must start with smpp:// or smpps://');
  const tls = parsed.protocol === 'smpps:';
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : tls ? 3550 : 2775,
    tls,
    systemId: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/** What became of one submit_sm. Only the last two may have reached the SMSC. */
export type SubmitOutcome =
  | { kind: 'response'; status: number; messageId: string }
  /** Not bound (and no bind completed in time): nothing was written. `bindStatus` when the last bind was refused. */
  | { kind: 'unbound'; bindStatus?: number }
  /** Bound, but no window slot freed in time: nothing was written. */
  | { kind: 'window-timeout' }
  /** Written; no submit_sm_resp in time. A late one still reaches `onLateResponse`. */
  | { kind: 'response-timeout' }
  /** Written; the connection closed before the submit_sm_resp. */
  | { kind: 'connection-lost' };

export interface SmppConnectionOptions {
  endpoint: SmppEndpoint;
  window: number;
  enquireLinkMs: number;
  /** submit_sm_resp, enquire_link_resp and window waits. */
  timeoutMs: number;
  /** How long a submission waits for a bind in progress. */
  bindWaitMs: number;
  /** Connect plus bind_transceiver_resp; past it the attempt is abandoned and retried. */
  bindTimeoutMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  logger: Logger;
  /** Handles a deliver_sm; resolves to the command_status of its deliver_sm_resp. */
  onDeliver(pdu: SmppPdu): Promise<number>;
  random?: () => number;
}

type State = 'idle' | 'connecting' | 'bound' | 'closed';

interface InFlight {
  session: SmppSession;
  /** Settles the caller's promise once (answer, timeout or connection loss). */
  settle(outcome: SubmitOutcome): void;
  /** Frees the window slot once: at the answer (even late) or when the session closes. */
  release(): void;
}

const ESME_RINVCMDID = 0x03;

export class SmppConnection {
  private state: State = 'idle';
  private session: SmppSession | undefined;
  private bindStatus: number | undefined;
  private reconnectAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private enquireTimer: NodeJS.Timeout | undefined;
  private enquirePending = false;
  private readonly inFlight = new Set<InFlight>();
  private slotsUsed = 0;
  private readonly slotWaiters: { grant: () => void }[] = [];
  private readonly stateListeners = new Set<() => void>();
  private readonly deliveries = new Set<Promise<void>>();

  constructor(private readonly options: SmppConnectionOptions) {}

  /** Starts connecting unless already connected, connecting or waiting to reconnect. */
  start(): void {
    if (this.state === 'idle' && !this.reconnectTimer) this.connect();
  }

  get bound(): boolean {
    return this.state === 'bound';
  }

  /**
   * Sends one submit_sm within the window. Never throws. `onLateResponse` receives a
   * submit_sm_resp that arrives after `response-timeout` was reported.
   */
  async submit(fields: SmppPduFields, onLateResponse?: (response: SmppPdu) => void): Promise<SubmitOutcome> {
    const deadline = Date.now() + this.options.timeoutMs;
    if (this.state === 'idle') this.start();
    if (this.state === 'connecting') await this.waitForBind(Math.min(this.options.bindWaitMs, this.options.timeoutMs));
    if (this.state !== 'bound') return { kind: 'unbound', bindStatus: this.bindStatus };
    if (!(await this.acquireSlot(deadline))) {
      return this.state === 'bound' ? { kind: 'window-timeout' } : { kind: 'unbound', bindStatus: this.bindStatus };
    }
    const session = this.session;
    if (this.state !== 'bound' || !session) {
      this.releaseSlot();
      return { kind: 'unbound', bindStatus: this.bindStatus };
    }
    return new Promise<SubmitOutcome>((resolve) => {
      let settled = false;
      let released = false;
      const entry: InFlight = {
        session,
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(outcome);
        },
        release: () => {
          if (released) return;
          released = true;
          this.inFlight.delete(entry);
          this.releaseSlot();
        },
      };
      const timer = setTimeout(() => entry.settle({ kind: 'response-timeout' }), this.options.timeoutMs);
      this.inFlight.add(entry);
      const written = session.send(new smpp.PDU('submit_sm', fields), (response) => {
        const late = settled;
        entry.settle({ kind: 'response', status: response.command_status, messageId: response.message_id ?? '' });
        entry.release();
        if (late) onLateResponse?.(response);
      });
      if (!written) {
        // The socket was already closing: the PDU never left.
        entry.settle({ kind: 'unbound', bindStatus: this.bindStatus });
        entry.release();
      }
    });
  }

  /** Sends a request outside the window (query_sm); undefined when unbound, unanswered or refused by the link. */
  async request(command: string, fields: SmppPduFields): Promise<SmppPdu | undefined> {
    const session = this.session;
    if (this.state !== 'bound' || !session) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.options.timeoutMs);
      const written = session.send(new smpp.PDU(command, fields), (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      if (!written) {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
  }

  /** Unbinds, stops reconnecting and waits for receipts being handed over to finish. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const session = this.session;
    const wasBound = this.state === 'bound';
    this.setState('closed');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopEnquireLink();
    for (const waiter of this.slotWaiters.splice(0)) waiter.grant();
    if (session) {
      if (wasBound) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(1_000, this.options.timeoutMs));
          const written = session.send(new smpp.PDU('unbind'), () => {
            clearTimeout(timer);
            resolve();
          });
          if (!written) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
      await new Promise<void>((resolve) => {
        session.once('close', () => resolve());
        session.destroy();
      });
    }
    await Promise.allSettled([...this.deliveries]);
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.setState('connecting');
    const { endpoint, logger } = this.options;
    const session = smpp.connect({ host: endpoint.host, port: endpoint.port, tls: endpoint.tls });
    this.session = session;
    const bindTimer = setTimeout(() => {
      logger.warn({ host: endpoint.host, port: endpoint.port }, 'smpp: no bind within the bind timeout; reconnecting');
      session.destroy();
    }, this.options.bindTimeoutMs);

    session.on(endpoint.tls ? 'secureConnect' : 'connect', () => {
      const bind = new smpp.PDU('bind_transceiver', {
        system_id: endpoint.systemId,
        password: endpoint.password,
        interface_version: 0x34,
      });
      session.send(bind, (response) => {
        clearTimeout(bindTimer);
        if (session !== this.session || this.state === 'closed') return;
        if (response.command_status === 0) {
          this.bindStatus = undefined;
          this.reconnectAttempts = 0;
          this.setState('bound');
          this.startEnquireLink(session);
          logger.info({ host: endpoint.host, port: endpoint.port, systemId: endpoint.systemId }, 'smpp: bound as transceiver');
          return;
        }
        this.bindStatus = response.command_status;
        // Once per attempt: a wrong password is retried with backoff, and each refusal is worth a line.
        const level = isAccountStatus(response.command_status) ? 'error' : 'warn';
        logger[level]({ commandStatus: formatCommandStatus(response.command_status), systemId: endpoint.systemId }, 'smpp: the SMSC refused the bind');
        this.notifyState();
        session.destroy();
      });
    });
    session.on('error', (error: Error) => {
      logger.warn({ err: error.message, host: endpoint.host, port: endpoint.port }, 'smpp: connection error');
      session.destroy();
    });
    session.on('close', () => {
      clearTimeout(bindTimer);
      this.onClose(session);
    });
    session.on('deliver_sm', (pdu: SmppPdu) => this.deliver(session, pdu));
    session.on('enquire_link', (pdu: SmppPdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: SmppPdu) => {
      session.send(pdu.response());
      session.close();
    });
    // SMPP requires an answer to every request; Herald takes only deliver_sm.
    session.on('data_sm', (pdu: SmppPdu) => session.send(pdu.response({ command_status: ESME_RINVCMDID })));
    session.on('unknown', (pdu: SmppPdu) => {
      if (!pdu.isResponse()) session.send(pdu.response()); // generic_nack
    });
  }

  private deliver(session: SmppSession, pdu: SmppPdu): void {
    const task = this.options
      .onDeliver(pdu)
      .catch(() => 0x64) // ESME_RX_T_APPN: the SMSC redelivers
      .then((status) => {
        // On a closed session there is no one to answer: the SMSC redelivers on the next bind.
        session.send(pdu.response({ command_status: status }));
      });
    this.deliveries.add(task);
    void task.finally(() => this.deliveries.delete(task));
  }

  private onClose(session: SmppSession): void {
    if (session !== this.session) return;
    this.session = undefined;
    this.stopEnquireLink();
    for (const entry of [...this.inFlight]) {
      if (entry.session !== session) continue;
      entry.settle({ kind: 'connection-lost' });
      entry.release();
    }
    if (this.state === 'closed') return;
    this.setState('idle');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const { reconnectInitialMs, reconnectMaxMs, logger } = this.options;
    const random = this.options.random ?? Math.random;
    this.reconnectAttempts += 1;
    const ceiling = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** Math.min(this.reconnectAttempts - 1, 30));
    // "Equal jitter": at least half the backoff, so a fleet of ESMEs does not reconnect in step.
    const delayMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
    logger.info({ attempt: this.reconnectAttempts, delayMs }, 'smpp: reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delayMs);
    this.reconnectTimer.unref();
  }

  private startEnquireLink(session: SmppSession): void {
    this.stopEnquireLink();
    this.enquireTimer = setInterval(() => {
      if (this.enquirePending) return;
      this.enquirePending = true;
      const timeout = setTimeout(() => {
        this.options.logger.warn('smpp: enquire_link unanswered; dropping the connection');
        session.destroy();
      }, this.options.timeoutMs);
      const written = session.send(new smpp.PDU('enquire_link'), () => {
        clearTimeout(timeout);
        this.enquirePending = false;
      });
      if (!written) clearTimeout(timeout);
    }, this.options.enquireLinkMs);
    this.enquireTimer.unref();
  }

  private stopEnquireLink(): void {
    clearInterval(this.enquireTimer);
    this.enquireTimer = undefined;
    this.enquirePending = false;
  }

  private acquireSlot(deadline: number): Promise<boolean> {
    if (this.slotsUsed < this.options.window) {
      this.slotsUsed += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          // A slot handed over on close is no slot: the caller sees `unbound`.
          resolve(this.state !== 'closed');
        },
      };
      const timer = setTimeout(() => {
        const index = this.slotWaiters.indexOf(waiter);
        if (index >= 0) this.slotWaiters.splice(index, 1);
        resolve(false);
      }, Math.max(0, deadline - Date.now()));
      this.slotWaiters.push(waiter);
    });
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    // The slot passes straight to the next waiter (FIFO), so the count stays within the window.
    if (next) next.grant();
    else this.slotsUsed -= 1;
  }

  private waitForBind(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stateListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stateListeners.add(done);
    });
  }

  private setState(state: State): void {
    this.state = state;
    this.notifyState();
  }

  private notifyState(): void {
    for (const listener of [...this.stateListeners]) listener();
  }
}

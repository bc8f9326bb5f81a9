// The soak's mixed traffic, offered at a fixed rate whatever the answers (open loop, so a slow
// Herald shows as latency instead of as fewer requests): single sends, bulk sends, one-time
// codes started and checked, replies from handsets through the signed inbound webhook, and
// watches (messageStatusChanged) opened on some of the sent messages. One subscriber follows
// every DELIVERED (messageEvents) and every reply (inboundMessageReceived), as a dashboard would;
// what it does not see by the end is looked up in the database before it is called lost.
import { createHmac } from 'node:crypto';
import type http from 'node:http';
import { type Client } from 'graphql-ws';
import { postJson } from '../bench/lib/graphql-client.js';
import { subscribe, wsClient } from '../chaos/lib/graphql.js';
import type { MinuteLog } from './stats.js';

/** Shares of the offered rate (messages per second; replies count as messages too). */
export const MIX = { single: 0.5, bulk: 0.3, otp: 0.1, reply: 0.1 } as const;
export const BULK_SIZE = 20;
/** One single send in this many is watched until its final status (messageStatusChanged). */
export const WATCH_EVERY = 10;

const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id } } ... on Error { code message } } }';
const SEND_MANY =
  'mutation($input: SendMessagesInput!) { sendMessages(input: $input) { __typename ... on SendMessagesSuccess { accepted { id } rejected { index code } } ... on Error { code message } } }';
const START = 'mutation($input: StartVerificationInput!) { startVerification(input: $input) { __typename ... on StartVerificationSuccess { data { id message { id } } } ... on Error { code message } } }';
const CHECK = 'mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { __typename ... on CheckVerificationSuccess { data { status } } ... on Error { code message } } }';

export interface TrafficTarget {
  baseUrl: string;
  key: string;
  agent: http.Agent;
  simulatorSecret: string;
  /** The account's number that replies are sent to. */
  replyTo: string;
  /** The code in a verification's SMS, read as the handset would (the test reads the sealed copy). */
  codeOf(verificationId: string): Promise<string | undefined>;
  log: MinuteLog;
  /** Notes an error (counted in its minute; the first of each kind is kept for the report). */
  error(at: number, kind: string, detail: string): void;
}

/**
 * Numbers the simulator delivers: +1 415 555 1000 … 9999 (its outcomes go by the last four
 * digits, 0000–0002 failing on purpose). Codes go to a number at most every ~9 000 codes, far
 * apart enough for the per-number code limits (one a minute, five in ten minutes).
 */
export const recipient = (i: number) => `+1415555${1000 + (((i % 9000) + 9000) % 9000)}`;

export class Traffic {
  /** Accepted message id → when it was scheduled and in which minute, until DELIVERED is seen. */
  readonly pending = new Map<string, { at: number; minute: number }>();
  /** DELIVERED seen before the send was answered (a fast report), by id. */
  private readonly early = new Map<string, number>();
  /** Reply number → minute, until the subscriber sees it. */
  readonly repliesPending = new Map<number, number>();
  /** Replies seen before their webhook call was answered (Herald publishes before it answers). */
  private readonly earlyReplies = new Set<number>();
  private closing = false;
  readonly replyIds = new Map<number, string>();
  private readonly done = { single: 0, bulk: 0, otp: 0, reply: 0 };
  private inFlight = 0;
  maxInFlight = 0;
  private readonly events: Client;
  private watchClient: Client;
  private readonly oldWatchClients: Client[] = [];
  private readonly watches = new Set<Promise<void>>();
  private readonly runId = Date.now().toString(36);
  private static codesSent = 0;
  /** When the subscriber last saw a DELIVERED or a reply of this traffic (performance.now()). */
  lastSeenAt = 0;

  constructor(private readonly target: TrafficTarget) {
    this.events = wsClient(target.baseUrl, target.key);
    this.watchClient = wsClient(target.baseUrl, target.key);
  }

  /** Subscribes to every DELIVERED and every reply of the account. */
  follow(): void {
    const { log } = this.target;
    const onError = (what: string) => (error: unknown) => this.closing || this.target.error(performance.now(), `${what} subscription`, errorText(error));
    const onEnd = (what: string) => () => this.closing || this.target.error(performance.now(), `${what} subscription`, 'ended by the server');
    subscribe(this.events, 'subscription { messageEvents(filter: { status: [DELIVERED] }) { id } }', {}, (data) => {
      const id = data?.messageEvents?.id as string | undefined;
      if (!id) return;
      const now = performance.now();
      const sent = this.pending.get(id);
      if (!sent) return void this.early.set(id, now);
      this.pending.delete(id);
      this.lastSeenAt = now;
      log.byIndex(sent.minute).delivered.push(now - sent.at);
    }).done.then(onEnd('messageEvents'), onError('messageEvents'));
    subscribe(this.events, 'subscription { inboundMessageReceived { body } }', {}, (data) => {
      const n = Number(/soak reply (\d+)/.exec(data?.inboundMessageReceived?.body ?? '')?.[1]);
      const minute = this.repliesPending.get(n);
      if (minute === undefined) return void this.earlyReplies.add(n);
      this.repliesPending.delete(n);
      this.lastSeenAt = performance.now();
      log.byIndex(minute).repliesSeen++;
    }).done.then(onEnd('inboundMessageReceived'), onError('inboundMessageReceived'));
  }

  /** Sends what is due by `now` at `rate` messages/s since `startedAt`. */
  tick(now: number, startedAt: number, rate: number): void {
    const due = (share: number, per = 1) => Math.floor((share * rate * (now - startedAt)) / 1000 / per);
    while (this.done.single < due(MIX.single)) this.launch(now, () => this.single(this.done.single++, now));
    while (this.done.bulk < due(MIX.bulk, BULK_SIZE)) this.launch(now, () => this.bulk(this.done.bulk++, now));
    while (this.done.otp < due(MIX.otp)) this.launch(now, () => this.otp(this.done.otp++, now));
    while (this.done.reply < due(MIX.reply)) this.launch(now, () => this.reply(this.done.reply++, now));
  }

  /**
   * The same mix in a closed loop: `workers` concurrent clients, each starting its next operation
   * once the last is answered, for `durationMs`: the most this Herald does of this traffic.
   * Operations come in the order the open loop would offer them (ops(), below).
   */
  async closedLoop(workers: number, durationMs: number): Promise<void> {
    const started = performance.now();
    const order = mixOrder(200);
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (performance.now() - started < durationMs) {
          const kind = order[next++ % order.length]!;
          const at = performance.now();
          this.inFlight++;
          await this[kind](this.done[kind]++, at)
            .catch((error: unknown) => this.target.error(at, 'driver', errorText(error)))
            .finally(() => this.inFlight--);
        }
      }),
    );
  }

  /** New watches go over a new connection each minute; the last minute's closes once its watches have ended. */
  rotateWatchConnection(): void {
    for (const old of this.oldWatchClients.splice(0)) void old.dispose();
    this.oldWatchClients.push(this.watchClient);
    this.watchClient = wsClient(this.target.baseUrl, this.target.key);
  }

  async close(): Promise<void> {
    await Promise.race([Promise.all(this.watches), new Promise((r) => setTimeout(r, 30_000))]);
    this.closing = true;
    await Promise.all([this.events, this.watchClient, ...this.oldWatchClients].map((c) => c.dispose()));
  }

  private launch(now: number, work: () => Promise<void>): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    void work()
      .catch((error: unknown) => this.target.error(now, 'driver', errorText(error)))
      .finally(() => this.inFlight--);
  }

  private accepted(id: string, at: number): void {
    const minute = this.target.log.indexAt(at);
    this.target.log.byIndex(minute).accepted++;
    const seenAt = this.early.get(id);
    if (seenAt === undefined) return void this.pending.set(id, { at, minute });
    this.early.delete(id);
    this.target.log.byIndex(minute).delivered.push(seenAt - at);
  }

  /** One operation's root field, or why it is not a success. */
  private async graphql(query: string, variables: Record<string, unknown>): Promise<{ root: any; problem?: string }> {
    const answer = await postJson(this.target.agent, `${this.target.baseUrl}/graphql`, { authorization: `Bearer ${this.target.key}` }, JSON.stringify({ query, variables }));
    if ('error' in answer) return { root: undefined, problem: answer.error };
    const json = answer.json as { data?: Record<string, any>; errors?: { message: string }[] } | undefined;
    const root = json?.data ? Object.values(json.data)[0] : undefined;
    if (!root) return { root, problem: `HTTP ${answer.status}: ${json?.errors?.[0]?.message ?? answer.text.slice(0, 200)}` };
    if (root.code) return { root, problem: `${root.__typename} ${root.code}: ${root.message}` };
    return { root };
  }

  private async single(i: number, at: number): Promise<void> {
    const { root, problem } = await this.graphql(SEND, { input: { to: recipient(i), body: `Soak ${i}: your order has shipped and arrives tomorrow.` } });
    const minute = this.target.log.at(at);
    minute.send.push(performance.now() - at); // from the scheduled time: a late start is latency too
    if (problem) return this.target.error(at, 'sendMessage', problem);
    this.accepted(root.data.id, at);
    if (i % WATCH_EVERY === 0) this.watch(root.data.id, at);
  }

  private async bulk(i: number, at: number): Promise<void> {
    const recipients = Array.from({ length: BULK_SIZE }, (_, k) => ({ to: recipient(i * BULK_SIZE + k + 5_000) }));
    const { root, problem } = await this.graphql(SEND_MANY, { input: { recipients, body: `Soak bulk ${i}: the shop opens at 9 tomorrow.` } });
    this.target.log.at(at).bulk.push(performance.now() - at);
    if (problem) return this.target.error(at, 'sendMessages', problem);
    for (const { id } of root.accepted as { id: string }[]) this.accepted(id, at);
    if (root.rejected.length) this.target.error(at, 'sendMessages', `${root.rejected.length} recipients rejected (${root.rejected[0].code})`);
  }

  private async otp(_i: number, at: number): Promise<void> {
    // Numbered across every Traffic of the process: the calibration's codes went to the first ones.
    const to = recipient(Traffic.codesSent++ * 7 + 3);
    const minute = this.target.log.at(at);
    const started = await this.graphql(START, { input: { to } });
    if (started.problem) return this.target.error(at, 'startVerification', started.problem);
    minute.otpStarted++;
    this.accepted(started.root.data.message.id, at);
    const code = await this.target.codeOf(started.root.data.id);
    if (!code) return this.target.error(at, 'verification code', 'not found in the SMS');
    const checked = await this.graphql(CHECK, { input: { to, code } });
    if (checked.problem) return this.target.error(at, 'checkVerification', checked.problem);
    if (checked.root.data.status !== 'APPROVED') return this.target.error(at, 'checkVerification', `status ${checked.root.data.status}`);
    minute.otpApproved++;
  }

  /** A reply from a handset, posted to the simulator's inbound webhook signed as the simulator signs. */
  private async reply(n: number, at: number): Promise<void> {
    const providerMessageId = `sim_in_soak_${this.runId}_${n}`;
    const body = JSON.stringify({ from: recipient(n), to: this.target.replyTo, body: `Thanks, soak reply ${n}`, providerMessageId });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', this.target.simulatorSecret).update(`${timestamp}.${body}`).digest('hex');
    const answer = await postJson(this.target.agent, `${this.target.baseUrl}/webhooks/simulator/inbound`, { 'x-herald-timestamp': timestamp, 'x-herald-signature': signature }, body);
    if ('error' in answer) return this.target.error(at, 'inbound webhook', answer.error);
    const counts = answer.json as { stored?: number } | undefined;
    if (answer.status !== 200 || counts?.stored !== 1) return this.target.error(at, 'inbound webhook', `HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
    const minute = this.target.log.byIndex(this.target.log.indexAt(at));
    minute.repliesPosted++;
    this.replyIds.set(n, providerMessageId);
    if (this.earlyReplies.delete(n)) minute.repliesSeen++;
    else this.repliesPending.set(n, minute.index);
  }

  private watch(id: string, at: number): void {
    const minute = this.target.log.at(at);
    minute.watches++;
    let last: string | undefined;
    let timedOut = false;
    const { done, cancel } = subscribe(this.watchClient, 'subscription($id: ID!) { messageStatusChanged(id: $id) { status } }', { id }, (data) => {
      last = data?.messageStatusChanged?.status;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      cancel();
      this.target.error(at, 'messageStatusChanged', `no final status within 60 s (last ${last}; message ${id})`);
    }, 60_000);
    const watched: Promise<void> = done
      .then(() => {
        if (timedOut) return;
        if (last === 'DELIVERED') minute.watchesCompleted++;
        else this.target.error(at, 'messageStatusChanged', `completed at ${last}`);
      }, (error: unknown) => {
        if (!timedOut) this.target.error(at, 'messageStatusChanged', errorText(error));
      })
      .finally(() => {
        clearTimeout(timer);
        this.watches.delete(watched);
      });
    this.watches.add(watched);
  }
}

/** The operations that `messages` messages of the mix take, in the order the open loop offers them. */
export function mixOrder(messages: number): (keyof typeof MIX)[] {
  const order: (keyof typeof MIX)[] = [];
  const done = { single: 0, bulk: 0, otp: 0, reply: 0 };
  for (let k = 1; k <= messages; k++) {
    for (const kind of Object.keys(MIX) as (keyof typeof MIX)[]) {
      const per = kind === 'bulk' ? BULK_SIZE : 1;
      while (done[kind] < Math.floor((MIX[kind] * k) / per)) {
        order.push(kind);
        done[kind]++;
      }
    }
  }
  return order;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e) => (e as { message?: string }).message ?? String(e)).join('; ');
  if (error && typeof error === 'object' && 'reason' in error) return `socket closed: ${(error as { code?: number }).code} ${(error as { reason?: string }).reason}`;
  return String(error);
}

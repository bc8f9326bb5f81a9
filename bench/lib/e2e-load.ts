// The load of the end-to-end benchmark: sendMessage to one or more Herald instances, each
// message followed until the subscriber sees it DELIVERED. Closed loop (a fixed number of
// senders, each sending its next message once the previous one is answered: the maximum rate)
// and open loop (messages sent on a fixed schedule whatever the answers: latency at a given
// offered rate, measured from the scheduled time so that a slow server cannot hide its delay).
import type http from 'node:http';
import { percentile } from '../harness.js';
import { benchMessageBody, sendMessage, type DeliveredSubscriber } from './graphql-client.js';

export interface LoadTarget {
  agent: http.Agent;
  /** Each instance's /graphql URL; sender or message i goes to graphqlUrls[i % length]. */
  graphqlUrls: string[];
  key: string;
  subscriber: DeliveredSubscriber;
  log: (line: string) => void;
}

/** Sends followed by id: a report may reach the subscriber before the sender has read its answer. */
class Followed {
  readonly sentAt = new Map<string, number>();
  /** Which instance (index into graphqlUrls) took each message. */
  readonly sentTo = new Map<string, number>();
  matched = 0;
  firstMatchedAt = Infinity;
  lastMatchedAt = 0;
  sendErrors = 0;
  firstSendError: string | undefined;

  constructor(private readonly subscriber: DeliveredSubscriber) {
    subscriber.onDelivered = (id) => {
      if (this.sentAt.has(id)) this.match(id);
    };
  }

  sent(result: { id: string } | { error: string }, at: number, instance = 0): void {
    if ('error' in result) {
      this.sendErrors++;
      this.firstSendError ??= result.error;
      return;
    }
    this.sentAt.set(result.id, at);
    this.sentTo.set(result.id, instance);
    if (this.subscriber.deliveredAt.has(result.id)) this.match(result.id);
  }

  private match(id: string): void {
    const at = this.subscriber.deliveredAt.get(id)!;
    this.matched++;
    this.firstMatchedAt = Math.min(this.firstMatchedAt, at);
    this.lastMatchedAt = Math.max(this.lastMatchedAt, at);
  }

  latencies(instance?: number): number[] {
    const out: number[] = [];
    for (const [id, t0] of this.sentAt) {
      const t1 = this.subscriber.deliveredAt.get(id);
      if (t1 !== undefined && (instance === undefined || this.sentTo.get(id) === instance)) out.push(t1 - t0);
    }
    return out;
  }

  close(): void {
    this.subscriber.onDelivered = () => {};
  }
}

const send = (target: LoadTarget, i: number) => sendMessage(target.agent, target.graphqlUrls[Math.abs(i) % target.graphqlUrls.length]!, target.key, benchMessageBody(i));

/** One message per sender, spread over the instances, until all are seen DELIVERED: null, or why not. */
export async function warmUp(target: LoadTarget, senders: number, timeoutMs: number): Promise<{ accepted: number; failure: string | null }> {
  const followed = new Followed(target.subscriber);
  try {
    const results = await Promise.all(Array.from({ length: senders }, (_, i) => send(target, -1 - i)));
    results.forEach((r) => followed.sent(r, performance.now()));
    if (followed.sentAt.size === 0) return { accepted: 0, failure: `warm-up sends failed: ${followed.firstSendError}` };
    const seen = await target.subscriber.waitFor(() => followed.matched >= followed.sentAt.size, timeoutMs);
    const error = target.subscriber.error();
    return {
      accepted: followed.sentAt.size,
      failure: seen ? null : `warm-up: the subscriber saw ${followed.matched}/${followed.sentAt.size} DELIVERED within ${timeoutMs / 1000} s${error ? ` (${error})` : ''}`,
    };
  } finally {
    followed.close();
  }
}

export interface ClosedLoopResult {
  count: number;
  accepted: number;
  /** Accepted messages seen DELIVERED. */
  delivered: number;
  complete: boolean;
  /** First send → last DELIVERED seen (→ end of the budget when not complete). */
  seconds: number;
  intakeSeconds: number;
  rate: number;
  latencies: number[];
  /** The latencies of the messages sent to each instance. */
  latenciesByInstance: number[][];
  sendErrors: number;
  firstSendError: string | undefined;
}

/** `senders` concurrent senders send `count` messages (fewer if `budgetMs` runs out) and wait for every DELIVERED. */
export async function closedLoop(target: LoadTarget, options: { count: number; senders: number; budgetMs: number; progressEveryMs: number }): Promise<ClosedLoopResult> {
  const followed = new Followed(target.subscriber);
  const started = performance.now();
  const deadline = started + options.budgetMs;
  const progress = setInterval(() => {
    target.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s: sent ${followed.sentAt.size}, delivered+seen ${followed.matched}`);
  }, options.progressEveryMs);
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: options.senders }, async (_, sender) => {
        while (next < options.count && performance.now() < deadline) {
          const i = next++;
          const t0 = performance.now();
          // Sender k keeps to instance k % instances (its keep-alive connection stays there).
          const instance = sender % target.graphqlUrls.length;
          followed.sent(await sendMessage(target.agent, target.graphqlUrls[instance]!, target.key, benchMessageBody(i)), t0, instance);
        }
      }),
    );
    const intakeSeconds = (performance.now() - started) / 1000;
    const complete = await target.subscriber.waitFor(() => followed.matched >= followed.sentAt.size, deadline - performance.now());
    const seconds = ((complete ? followed.lastMatchedAt : performance.now()) - started) / 1000;
    return {
      count: options.count,
      accepted: followed.sentAt.size,
      delivered: followed.matched,
      complete,
      seconds,
      intakeSeconds,
      rate: followed.matched / seconds,
      latencies: followed.latencies(),
      latenciesByInstance: target.graphqlUrls.map((_, instance) => followed.latencies(instance)),
      sendErrors: followed.sendErrors,
      firstSendError: followed.firstSendError,
    };
  } finally {
    clearInterval(progress);
    followed.close();
  }
}

export interface OpenLoopResult {
  offeredRate: number;
  count: number;
  accepted: number;
  delivered: number;
  /** Scheduled send → DELIVERED seen, ms. */
  latencies: number[];
  p50: number | null;
  p99: number | null;
  /** (delivered − 1) ÷ (last DELIVERED − first DELIVERED): the rate reports came out at, which a server keeping up holds at the offered rate. */
  deliveredRate: number | null;
  /** Last DELIVERED − last scheduled send, ms: the backlog left when sending stopped. */
  drainMs: number | null;
  /** How late this process fired a scheduled send at worst, ms (the client's own lag, inside the latencies). */
  maxSendLagMs: number;
  sendErrors: number;
  firstSendError: string | undefined;
  /** Every message accepted and seen DELIVERED, at ≥ 95 % of the offered rate. */
  keptUp: boolean;
}

/** Messages at `rate` per second for `durationMs`, each sent at its time whatever the answers; then waits up to `drainMs` for the last DELIVERED. */
export async function openLoop(target: LoadTarget, options: { rate: number; durationMs: number; drainMs: number; firstIndex: number }): Promise<OpenLoopResult> {
  const followed = new Followed(target.subscriber);
  const count = Math.max(2, Math.round((options.rate * options.durationMs) / 1000));
  const interval = 1000 / options.rate;
  const t0 = performance.now() + 10;
  let next = 0;
  let maxSendLagMs = 0;
  const answers: Promise<void>[] = [];
  try {
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (next < count && t0 + next * interval <= now) {
          const scheduled = t0 + next * interval;
          maxSendLagMs = Math.max(maxSendLagMs, now - scheduled);
          answers.push(send(target, options.firstIndex + next).then((result) => followed.sent(result, scheduled)));
          next++;
        }
        if (next < count) setTimeout(tick, Math.max(0, Math.min(interval, t0 + next * interval - now)));
        else resolve();
      };
      tick();
    });
    const lastScheduled = t0 + (count - 1) * interval;
    await Promise.all(answers);
    const all = await target.subscriber.waitFor(() => followed.matched >= followed.sentAt.size, lastScheduled + options.drainMs - performance.now());
    const latencies = followed.latencies();
    const offeredRate = (count - 1) / ((lastScheduled - t0) / 1000);
    const deliveredRate = followed.matched >= 2 ? (followed.matched - 1) / ((followed.lastMatchedAt - followed.firstMatchedAt) / 1000) : null;
    return {
      offeredRate,
      count,
      accepted: followed.sentAt.size,
      delivered: followed.matched,
      latencies,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      deliveredRate,
      drainMs: followed.matched ? followed.lastMatchedAt - lastScheduled : null,
      maxSendLagMs,
      sendErrors: followed.sendErrors,
      firstSendError: followed.firstSendError,
      keptUp: all && followed.sendErrors === 0 && deliveredRate !== null && deliveredRate >= 0.95 * offeredRate,
    };
  } finally {
    followed.close();
  }
}

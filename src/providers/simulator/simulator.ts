// The built-in simulator: a provider that behaves like a remote one. It takes a submission,
// then calls Herald back over HTTP with a signed delivery report, so the webhook path is
// exercised even with no real provider (docs/api.md "Simulator provider"). Outcomes by recipient:
//   …0000 → accepted, then an `undelivered` report (UNDELIVERED, errorCode UNDELIVERABLE)
//   …0001 → `send()` answers `rejected` (REJECTED at submission, errorCode INVALID_NUMBER)
//   …0002 → `send()` answers `retryable` TIMEOUT after `timeoutMs` (the dispatcher retries, then FAILED)
//   other → accepted, then a `delivered` report (DELIVERED)
// Past those endings, its behaviour (behaviour.ts: delivery rate, report delay, missing reports,
// submission errors, outage; per country) decides; the default behaviour delivers everything.
// Several can run side by side under names of their own (SIMULATORS), each reporting through
// `/webhooks/<name>/status`.
// It depends on nothing but Node and the domain types: no database or server.

import { randomUUID } from 'node:crypto';
import {
  parseSimulatorInbound,
  parseSimulatorStatusReports,
  simulatorStatusWords,
  type SimulatorInboundPayload,
  type SimulatorReportPayload,
  type SimulatorStatusWord,
} from './simulator-payload.js';
import { createSignatureHeaders, verifySignature } from './simulator-signature.js';
import { MemorySimulatorStore, type SimulatorStore, type StoredSubmission } from './simulator-memory-store.js';
import { countryOfPrefix, countryPrefix } from '../../domain/stats.js';
import { behaviourFor, decideOutcome, hasCountryOverrides, type SimulatorBehaviourSettings } from './behaviour.js';
import type { BackgroundWork, InboundReport, LookupResult, OutboundMessage, SendResult, SentMessageRef, SmsProvider, StatusReport, WebhookRequest } from '../types.js';

/** Test behaviours; `configure()` changes them at runtime for messages accepted afterwards. */
export interface SimulatorBehaviour {
  /** Delay between acceptance and the delivery report. Default 50. */
  reportDelayMs: number;
  /** Extra delay before the final report, to make it arrive late. Default 0. */
  lateByMs: number;
  /** POST every final report twice, as a provider retrying a callback does. Default false. */
  duplicateReports: boolean;
  /** After the final report, also POST the earlier `accepted` report, as if overtaken. Default false. */
  outOfOrder: boolean;
}

/** Called when a callback still fails after every attempt (the report is then lost, as with a real provider). */
export interface CallbackFailure {
  /** Empty when no request could be made (e.g. a bad publicUrl). */
  url: string;
  attempts: number;
  error: string;
}

export interface SimulatorTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SimulatorOptions extends Partial<SimulatorBehaviour> {
  /** The provider's name, and the path of its callbacks (`/webhooks/<name>/…`). Default `simulator`. */
  name?: string;
  /** How good it is, per destination country (default: everything delivered); see setBehaviour(). */
  behaviour?: SimulatorBehaviourSettings;
  /** Random source of the behaviour's rates. Default Math.random. */
  random?: () => number;
  /** Per-install HMAC secret shared with the webhook route. */
  secret: string;
  /**
   * Herald's public base URL; reports go to `${publicUrl}/webhooks/<name>/status`. A function
   * is read at each callback, for a server that learns its port only after listening (PORT=0).
   */
  publicUrl: string | (() => string);
  fetch?: typeof fetch;
  /** How long a …0002 submission hangs before answering TIMEOUT. Default 25. */
  timeoutMs?: number;
  /** Accepted signature age, either way, in seconds. Default 300. */
  replayWindowSeconds?: number;
  now?: () => Date;
  timers?: SimulatorTimers;
  /** Callback attempts in all, with exponential backoff from `callbackBackoffMs`. Default 4 and 100. */
  callbackAttempts?: number;
  callbackBackoffMs?: number;
  /** Per-attempt limit on a callback request. Default 5000. */
  callbackTimeoutMs?: number;
  /**
   * Reports that fall due within this many ms of each other go in one signed request, as an
   * array (the webhook takes up to 1 000), as providers that push receipts in batches do.
   * 0 (the default) sends each submission's reports in a request of its own.
   */
  reportBatchMs?: number;
  onCallbackFailure?: (failure: CallbackFailure) => void;
  /** Submissions remembered for dedup and `lookup` by the default in-memory store. Default 100 000. */
  maxRemembered?: number;
  /** Where submissions are remembered; in memory by default (see SimulatorStore). */
  store?: SimulatorStore;
  /**
   * How long past its due time an unsent report is taken to be orphaned (its submitting
   * process died) and sent by `recoverOverdueReports`. Default 5000.
   */
  orphanAfterMs?: number;
}

/** Reports waiting for the next batched callback, and who waits for its outcome. */
interface QueuedReports {
  reports: SimulatorReportPayload[];
  posted: (ok: boolean) => void;
}

/** Most reports in one batched callback (the webhook's own limit is 1 000). */
const MAX_REPORT_BATCH = 500;

interface PendingWait {
  handle: unknown;
  resolve: (elapsed: boolean) => void;
}

const E164 = /^\+[1-9]\d{1,14}$/;
// Like real providers, retry what may pass later; any other 4xx is Herald refusing the
// request itself (bad signature, bad payload), which a retry cannot fix.
const isRetryableStatus = (status: number) => status >= 500 || status === 408 || status === 429;

const defaultTimers: SimulatorTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class SimulatorProvider implements SmsProvider {
  readonly name: string;

  private behaviour: SimulatorBehaviour;
  private quality: SimulatorBehaviourSettings;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;
  private readonly timers: SimulatorTimers;
  // What was accepted. Reports are sent by a timer in the accepting process (the fast path);
  // with a durable store, a report whose process died is sent by `recoverOverdueReports`.
  private readonly store: SimulatorStore;
  private readonly waits = new Set<PendingWait>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private closed = false;
  private queued: QueuedReports[] = [];
  private flushScheduled = false;

  constructor(private readonly options: SimulatorOptions) {
    if (!options.secret) throw new Error('simulator: a non-empty secret is required');
    this.name = options.name ?? 'simulator';
    this.quality = options.behaviour ?? {};
    this.random = options.random ?? Math.random;
    if (typeof options.publicUrl === 'string') this.webhookUrl('status'); // fail fast on a bad URL
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? (() => new Date());
    this.timers = options.timers ?? defaultTimers;
    this.store = options.store ?? new MemorySimulatorStore(options.maxRemembered);
    this.behaviour = {
      reportDelayMs: options.reportDelayMs ?? 50,
      lateByMs: options.lateByMs ?? 0,
      duplicateReports: options.duplicateReports ?? false,
      outOfOrder: options.outOfOrder ?? false,
    };
  }

  /** Changes test behaviours for submissions accepted from now on. */
  configure(patch: Partial<SimulatorBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...patch };
  }

  /**
   * Replaces how good the simulator is (delivery rate, report delay, missing reports, submission
   * errors, outage; per country), for submissions from now on. Reports already due keep theirs.
   * Validate run-time input with `simulatorBehaviourSchema` (src/config/simulators.ts) first.
   */
  setBehaviour(behaviour: SimulatorBehaviourSettings): void {
    this.quality = behaviour;
  }

  /** The behaviour in force. */
  get currentBehaviour(): SimulatorBehaviourSettings {
    return this.quality;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (this.closed) return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'simulator is closed' };
    if (!E164.test(message.to)) {
      return { kind: 'rejected', errorCode: 'INVALID_NUMBER', rawCode: 'invalid_destination', message: `${message.to} is not E.164` };
    }
    if (message.to.endsWith('0001')) {
      return { kind: 'rejected', errorCode: 'INVALID_NUMBER', rawCode: 'destination_rejected', message: 'simulated rejection at submission' };
    }
    if (message.to.endsWith('0002')) {
      await this.delay(this.options.timeoutMs ?? 25);
      return { kind: 'retryable', errorCode: 'TIMEOUT', rawCode: 'timeout', message: 'simulated provider timeout' };
    }

    const country = hasCountryOverrides(this.quality) ? countryOfPrefix(countryPrefix(message.to), message.to) : undefined;
    const fate = decideOutcome(behaviourFor(this.quality, country, this.behaviour), this.random);
    if (fate.kind === 'refused') {
      return fate.reason === 'outage'
        ? { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'outage', message: 'simulated outage: the provider is down' }
        : { kind: 'retryable', errorCode: 'PROVIDER_ERROR', rawCode: 'submit_error', message: 'simulated submission error' };
    }
    const behaviour = { ...this.behaviour, reportDelayMs: fate.reportDelayMs };
    const acceptedAt = this.now();
    const candidate: StoredSubmission = {
      reference: message.id,
      providerMessageId: `sim_${randomUUID().replaceAll('-', '')}`,
      outcome: message.to.endsWith('0000') ? 'undelivered' : fate.report,
      acceptedAt,
      reportDueAt: new Date(acceptedAt.getTime() + behaviour.reportDelayMs + behaviour.lateByMs),
      // A report that will never be pushed counts as sent, so neither the timer nor the recovery
      // of orphaned reports sends it; a status query (the reconciler's) still gets the outcome.
      reportedAt: fate.reportMissing ? acceptedAt : null,
    };
    // Our message id is the client reference: a resubmission (after a timeout or a crash) is
    // the same message, so the store hands back the first acceptance: same id, no second report.
    // (The number checks above cannot refuse a message that was once accepted: a number they
    // refuse is never stored. The behaviour's refusals can, as a provider that went down
    // refuses a resubmission; Herald asks `lookup` before resubmitting anyway.)
    const submission = await this.store.accept(candidate);
    if (submission.providerMessageId !== candidate.providerMessageId) {
      return { kind: 'accepted', providerMessageId: submission.providerMessageId, rawStatus: 'accepted' };
    }
    if (!fate.reportMissing) this.track(this.report(submission, behaviour));
    return { kind: 'accepted', providerMessageId: submission.providerMessageId, rawStatus: 'accepted' };
  }

  verifyWebhook(request: WebhookRequest): boolean {
    return verifySignature({
      secret: this.options.secret,
      headers: request.headers,
      rawBody: request.rawBody,
      receivedAt: request.receivedAt,
      replayWindowSeconds: this.options.replayWindowSeconds,
    });
  }

  parseStatusReport(request: WebhookRequest): StatusReport[] {
    return parseSimulatorStatusReports(request.rawBody);
  }

  parseInbound(request: WebhookRequest): InboundReport[] {
    return parseSimulatorInbound(request.rawBody);
  }

  async lookup(reference: string): Promise<LookupResult> {
    const submission = await this.store.find(reference);
    if (!submission) return { found: false };
    const rawStatus: SimulatorStatusWord = submission.reportedAt ? submission.outcome : 'accepted';
    return { found: true, providerMessageId: submission.providerMessageId, status: simulatorStatusWords[rawStatus], rawStatus };
  }

  /**
   * The outcome of an accepted message, as a real provider's status API would give it: the
   * simulator decides the carrier's answer at acceptance, so it is known even while its push
   * is still delayed or was lost.
   */
  async queryStatus(message: SentMessageRef): Promise<StatusReport | undefined> {
    const submission = await this.store.find(message.id);
    if (!submission || submission.providerMessageId !== message.providerMessageId) return undefined;
    return { reference: submission.reference, providerMessageId: submission.providerMessageId, status: simulatorStatusWords[submission.outcome], rawStatus: submission.outcome };
  }

  /** Every second, the reports of processes that died (see recoverOverdueReports). */
  readonly backgroundWork: BackgroundWork = { pollMs: 1_000, run: () => this.recoverOverdueReports() };

  /**
   * Sends the reports that a crashed process accepted but never sent (durable store only), as
   * a remote provider would after Herald's callback failed. Returns how many it sent.
   */
  async recoverOverdueReports(limit = 100): Promise<number> {
    if (this.closed) return 0;
    const now = this.now();
    const orphanAfterMs = this.options.orphanAfterMs ?? 5_000;
    const claimed = await this.store.claimOverdue(new Date(now.getTime() - orphanAfterMs), new Date(now.getTime() + 30_000), limit);
    await Promise.all(claimed.map((submission) => this.sendReports(submission, { ...this.behaviour, duplicateReports: false, outOfOrder: false })));
    return claimed.length;
  }

  /**
   * Makes a handset "reply": POSTs a signed inbound message to `/webhooks/<name>/inbound`.
   * Resolves true once Herald answered 2xx. With `providerMessageId`, the caller can find the
   * stored message afterwards (as a real provider's message id would).
   */
  async simulateInbound(inbound: { from: string; to: string; body: string; providerMessageId?: string }): Promise<boolean> {
    const payload: SimulatorInboundPayload = { ...inbound, receivedAt: this.now().toISOString() };
    const delivered = this.post('inbound', payload);
    this.track(delivered.then(() => undefined));
    return delivered;
  }

  /** Resolves when no report or callback is pending (tests wait on this instead of sleeping). */
  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  /** Cancels pending reports, retries and in-flight callbacks; later sends answer retryable. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    for (const wait of this.waits) {
      this.timers.clearTimeout(wait.handle);
      wait.resolve(false);
    }
    this.waits.clear();
    await this.idle();
  }

  private async report(submission: StoredSubmission, behaviour: SimulatorBehaviour): Promise<void> {
    if (!(await this.delay(behaviour.reportDelayMs + behaviour.lateByMs))) return;
    await this.sendReports(submission, behaviour);
  }

  private async sendReports(submission: StoredSubmission, behaviour: SimulatorBehaviour): Promise<void> {
    const outcome = submission.outcome;
    const final: SimulatorReportPayload = {
      reference: submission.reference,
      providerMessageId: submission.providerMessageId,
      status: outcome,
      ...(outcome === 'undelivered' ? { errorCode: 'UNDELIVERABLE' } : {}),
      timestamp: this.now().toISOString(),
    };
    const reports = [final];
    if (behaviour.duplicateReports) reports.push(final);
    if (behaviour.outOfOrder) {
      reports.push({ ...final, status: 'accepted', errorCode: undefined, timestamp: submission.acceptedAt.toISOString() });
    }
    if (this.options.reportBatchMs) {
      if (!(await this.enqueue(reports))) return;
    } else {
      // One after the other, so the order Herald sees is the order above.
      for (const report of reports) {
        if (!(await this.post('status', report))) return;
      }
    }
    await this.store.markReported(submission.reference, this.now());
  }

  /**
   * Queues one submission's reports for the next batched callback; resolves whether it was
   * delivered. A batch keeps each submission's reports together and in order, so Herald sees
   * them in the order a request of their own would have given.
   */
  private enqueue(reports: SimulatorReportPayload[]): Promise<boolean> {
    return new Promise((posted) => {
      this.queued.push({ reports, posted });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      this.track(
        this.delay(this.options.reportBatchMs!).then(async (waited) => {
          this.flushScheduled = false;
          const batch = this.queued;
          this.queued = [];
          if (!waited) return batch.forEach((q) => q.posted(false));
          await Promise.all(this.splitBatches(batch).map(async (part) => {
            const ok = await this.post('status', part.flatMap((q) => q.reports));
            for (const q of part) q.posted(ok);
          }));
        }),
      );
    });
  }

  /** Whole submissions per request, at most MAX_REPORT_BATCH reports each (one submission may exceed it alone). */
  private splitBatches(queued: QueuedReports[]): QueuedReports[][] {
    const parts: QueuedReports[][] = [];
    let size = Infinity;
    for (const q of queued) {
      if (size + q.reports.length > MAX_REPORT_BATCH) {
        parts.push([]);
        size = 0;
      }
      parts.at(-1)!.push(q);
      size += q.reports.length;
    }
    return parts;
  }

  /** POSTs signed JSON, retrying with exponential backoff; false when it gave up or was closed. */
  private async post(kind: 'status' | 'inbound', payload: SimulatorReportPayload | SimulatorReportPayload[] | SimulatorInboundPayload): Promise<boolean> {
    let url: string;
    try {
      url = this.webhookUrl(kind);
    } catch (cause) {
      this.reportFailure({ url: '', attempts: 0, error: `bad publicUrl: ${String(cause)}` });
      return false;
    }
    const rawBody = Buffer.from(JSON.stringify(payload));
    const attempts = this.options.callbackAttempts ?? 4;
    const backoffMs = this.options.callbackBackoffMs ?? 100;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return false;
      let error: string;
      let worthRetrying = true;
      try {
        // Signed per attempt, so the timestamp says when this request left, as the replay window expects.
        const response = await this.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...createSignatureHeaders(this.options.secret, rawBody, this.now()) },
          body: rawBody,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.callbackTimeoutMs ?? 5000)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return true;
        error = `HTTP ${response.status}`;
        worthRetrying = isRetryableStatus(response.status);
      } catch (cause) {
        if (this.closed) return false;
        error = cause instanceof Error ? cause.message : String(cause);
      }
      if (!worthRetrying || attempt >= attempts) {
        this.reportFailure({ url, attempts: attempt, error });
        return false;
      }
      if (!(await this.delay(backoffMs * 2 ** (attempt - 1)))) return false;
    }
  }

  private webhookUrl(kind: 'status' | 'inbound'): string {
    const { publicUrl } = this.options;
    const base = new URL(typeof publicUrl === 'string' ? publicUrl : publicUrl()).href.replace(/\/+$/, '');
    return `${base}/webhooks/${this.name}/${kind}`;
  }

  private track(task: Promise<void>): void {
    // A report task never rejects by design; this keeps a bug from becoming an unhandled rejection.
    const tracked = task.catch((cause: unknown) => this.reportFailure({ url: '', attempts: 0, error: String(cause) }));
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
  }

  private reportFailure(failure: CallbackFailure): void {
    try {
      this.options.onCallbackFailure?.(failure);
    } catch {
      // A logging hook must not break the simulator.
    }
  }

  /** Waits on the injected timers; resolves false instead when closed first. */
  private delay(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wait: PendingWait = { handle: undefined, resolve };
      wait.handle = this.timers.setTimeout(() => {
        this.waits.delete(wait);
        resolve(true);
      }, Math.max(0, ms));
      this.waits.add(wait);
    });
  }
}

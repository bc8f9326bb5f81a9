// The configured providers behind their protections: routing order, a circuit breaker each,
// a throughput limit (messages per second, shared through Redis when REDIS_URL is set), an
// in-flight window, and recent outcome statistics for the `providers` query.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { metrics } from '../metrics/metrics.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { ProviderStats, type StatsSnapshot } from './provider-stats.js';
import type { ProviderLimits, RoutingConfig } from '../config/routes.js';
import { decideRoute, type ProviderFacts, type RoutingDecision } from '../domain/routing-strategy.js';
import { routeOf, type RoutableMessage } from './routing.js';
import type { OutboundMessage, SendResult, SmsProvider } from './types.js';
import type { QualityRecorder } from '../domain/provider-quality.js';

export interface ProviderHealth extends StatsSnapshot {
  name: string;
  /** Whether routing may choose it (a disabled provider still takes its reports). */
  enabled: boolean;
  /** UP (circuit closed), DEGRADED (half-open: probing), DOWN (open). */
  state: 'UP' | 'DEGRADED' | 'DOWN';
  circuit: CircuitState;
  inFlight: number;
  ratePerSecond: number | null;
  window: number | null;
  templateOnly: boolean;
  windowSeconds: number;
  lastErrorCode: string | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

/** Why a provider was not asked: its circuit is open, or its limits made the message wait too long. */
export type Unavailable = { kind: 'unavailable'; reason: 'circuit-open' | 'busy'; retryInMs: number };

export interface ProviderPoolOptions {
  routing: RoutingConfig;
  redis?: Redis;
  /** Longest a submission waits for a rate-limit token or window slot before trying elsewhere. */
  maxWaitMs: number;
  now?: () => number;
  random?: () => number;
  /** Counts every answer by provider and destination country (measured quality; in memory). */
  quality?: Pick<QualityRecorder, 'recordSubmission'>;
  /** Names routing may choose; default all. */
  enabled?: ReadonlySet<string>;
}

interface Entry {
  provider: SmsProvider;
  breaker: CircuitBreaker;
  stats: ProviderStats;
  limits: ProviderLimits;
  rate?: RateLimiterAbstract;
  inFlight: number;
  waiting: (() => void)[];
  lastError?: { code: string; message: string; at: Date };
}

export class ProviderPool {
  private entries = new Map<string, Entry>();
  private readonly now: () => number;
  private routing: RoutingConfig;
  /** Providers that take new messages; a disabled one keeps its entry for reports and polls. */
  private enabled: ReadonlySet<string>;

  constructor(
    providers: readonly SmsProvider[],
    private readonly options: ProviderPoolOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.routing = options.routing;
    this.enabled = new Set();
    this.reconfigure(providers, options.routing, options.enabled);
  }

  /** Every provider the pool holds, disabled ones included. */
  get providers(): SmsProvider[] {
    return [...this.entries.values()].map((e) => e.provider);
  }

  /**
   * Takes a new configuration (services/live-configuration.ts) without a restart. A provider
   * whose adapter is the same object keeps its circuit, statistics and in-flight count; a new
   * adapter (its definition changed) starts with a closed circuit and keeps the statistics.
   * `enabled` (default: all) are those routing may choose.
   */
  reconfigure(providers: readonly SmsProvider[], routing: RoutingConfig, enabled?: ReadonlySet<string>): void {
    const entries = new Map<string, Entry>();
    for (const provider of providers) {
      const limits = routing.limits[provider.name] ?? {};
      const old = this.entries.get(provider.name);
      const sameLimits = old && old.limits.ratePerSecond === limits.ratePerSecond && old.limits.window === limits.window;
      if (old && old.provider === provider && sameLimits && this.routing.circuit === routing.circuit) {
        entries.set(provider.name, old);
        continue;
      }
      entries.set(provider.name, {
        provider,
        breaker: old?.provider === provider && this.routing.circuit === routing.circuit ? old.breaker : new CircuitBreaker({ ...routing.circuit, now: this.now }),
        stats: old?.stats ?? new ProviderStats(undefined, undefined, this.now),
        limits,
        rate: limits.ratePerSecond ? rateLimiter(provider.name, limits.ratePerSecond, this.options.redis) : undefined,
        inFlight: old?.inFlight ?? 0,
        waiting: old?.waiting ?? [],
        lastError: old?.lastError,
      });
    }
    this.entries = entries;
    this.routing = routing;
    this.enabled = enabled ?? new Set(providers.map((p) => p.name));
  }

  get(name: string): SmsProvider | undefined {
    return this.entries.get(name)?.provider;
  }

  /**
   * The providers of the message's route that can carry it (`canCarry` drops a template-only
   * provider without a mapping for the message's template), ordered by the route's strategy
   * from `facts` (each provider's price and measured quality for this destination, gathered by
   * the caller; `minSamples` is the route's), with the decision to record. Without a route: SMS_PROVIDERS in order.
   */
  async choose(
    message: RoutableMessage,
    canCarry: (provider: SmsProvider) => boolean,
    facts: (providers: readonly string[], minSamples: number) => Promise<ProviderFacts[]>,
  ): Promise<{ providers: SmsProvider[]; decision: RoutingDecision & { route: string | null } }> {
    const route = routeOf(this.routing, message);
    const able = route.providers.filter((name) => {
      const provider = this.entries.get(name)?.provider;
      return provider !== undefined && this.enabled.has(name) && canCarry(provider);
    });
    const decision = decideRoute(route.settings, await facts(able, route.settings.minSamples), this.options.random);
    return { providers: decision.order.map((name) => this.entries.get(name)!.provider), decision: { route: route.name, ...decision } };
  }

  /** Submits through the provider's circuit, rate limit and window, recording the outcome. */
  async submit(provider: SmsProvider, message: OutboundMessage): Promise<SendResult | Unavailable> {
    // A provider removed by a reconfiguration while its message waited: not asked, tried elsewhere.
    const entry = this.entries.get(provider.name);
    if (!entry || entry.provider !== provider) return { kind: 'unavailable', reason: 'busy', retryInMs: 0 };
    if (!entry.breaker.tryAcquire()) return { kind: 'unavailable', reason: 'circuit-open', retryInMs: this.routing.circuit.openMs };
    const deadline = this.now() + this.options.maxWaitMs;
    if (!(await this.takeRateToken(entry, deadline)) || !(await this.takeSlot(entry, deadline))) {
      entry.breaker.release();
      return { kind: 'unavailable', reason: 'busy', retryInMs: 1_000 };
    }
    const started = performance.now();
    let result: SendResult;
    try {
      result = await provider.send(message);
    } catch (error) {
      // Adapters return failures as values; a throw is a bug in one. Count it against the
      // provider (it did not take the message) rather than crash the round.
      result = { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: `adapter error: ${(error as Error).message}` };
    } finally {
      this.releaseSlot(entry);
    }
    entry.stats.record(performance.now() - started, result.kind !== 'retryable');
    // A refusal counts against the provider here too (unlike its circuit): for quality, a
    // submission the provider did not take is a submission error whatever the reason.
    this.options.quality?.recordSubmission(provider.name, message.to, result.kind === 'accepted');
    metrics.providerRequests.inc({ provider: provider.name, outcome: result.kind });
    if (result.kind !== 'accepted') metrics.providerErrors.inc({ provider: provider.name, code: result.errorCode });
    if (result.kind !== 'retryable') entry.breaker.success();
    else {
      entry.breaker.failure();
      entry.lastError = { code: result.errorCode, message: result.message, at: new Date(this.now()) };
    }
    return result;
  }

  /** Each provider's state, limits and recent outcomes, for the `providers` query. */
  health(): ProviderHealth[] {
    return [...this.entries.values()].map((e) => {
      const circuit = e.breaker.current;
      return {
        name: e.provider.name,
        enabled: this.enabled.has(e.provider.name),
        state: circuit === 'CLOSED' ? 'UP' : circuit === 'OPEN' ? 'DOWN' : 'DEGRADED',
        circuit,
        inFlight: e.inFlight,
        ratePerSecond: e.limits.ratePerSecond ?? null,
        window: e.limits.window ?? null,
        templateOnly: e.provider.templateOnly === true,
        windowSeconds: e.stats.windowSeconds,
        lastErrorCode: e.lastError?.code ?? null,
        lastError: e.lastError?.message ?? null,
        lastErrorAt: e.lastError?.at ?? null,
        ...e.stats.snapshot(),
      };
    });
  }

  private async takeRateToken(entry: Entry, deadline: number): Promise<boolean> {
    if (!entry.rate) return true;
    for (;;) {
      try {
        await entry.rate.consume('send');
        return true;
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error; // Redis down: surface it
        const wait = error.msBeforeNext;
        if (this.now() + wait > deadline) return false;
        await sleep(wait);
      }
    }
  }

  private async takeSlot(entry: Entry, deadline: number): Promise<boolean> {
    const window = entry.limits.window;
    if (!window) {
      entry.inFlight++;
      return true;
    }
    while (entry.inFlight >= window) {
      const remaining = deadline - this.now();
      if (remaining <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, remaining);
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        entry.waiting.push(wake);
      });
    }
    entry.inFlight++;
    return true;
  }

  private releaseSlot(entry: Entry): void {
    entry.inFlight--;
    entry.waiting.shift()?.();
  }
}

/** Fixed one-second windows (several when the rate is below one per second). */
function rateLimiter(name: string, perSecond: number, redis?: Redis): RateLimiterAbstract {
  const points = perSecond >= 1 ? Math.round(perSecond) : 1;
  const duration = perSecond >= 1 ? 1 : Math.round(1 / perSecond);
  const keyPrefix = `herald:provider-rate:${name}`;
  return redis ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration }) : new RateLimiterMemory({ keyPrefix, points, duration });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

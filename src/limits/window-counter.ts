// Fixed-window counters on rate-limiter-flexible: in process memory, or in Redis so that every
// Herald instance counts into the same windows.
import type { Redis } from 'ioredis';
import { RateLimiterCluster, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A window's state right after a change. */
export interface WindowCount {
  /** Points counted in the window, this change included. */
  consumed: number;
  /** Until the window closes and its count starts again from zero. */
  msBeforeNext: number;
}

export interface WindowCounter {
  /** Adds points to the window `key` of `windowSeconds`, opening it if it isn't open. */
  add(key: string, points: number, windowSeconds: number): Promise<WindowCount>;
  /** Takes back points added by a refused send, so that it doesn't eat the window. */
  subtract(key: string, points: number, windowSeconds: number): Promise<void>;
}

// The library decides "allowed" by comparing with its `points` option, fixed per limiter
// instance. Limits differ per account and can change at any time, and in memory each limiter
// instance has its own storage, so one limiter per distinct limit would split (or on a policy
// change, reset) a key's count. Instead one limiter that never refuses does the atomic counting
// with expiry, the window length goes with each call (`customDuration`, and is part of every
// key), and the caller compares the count with the account's limit.
const NEVER_REFUSE = Number.MAX_SAFE_INTEGER;

/**
 * Without `redis`, counts live in this process (or, in a cluster worker, in the primary). With it, counts are shared through Redis; while
 * the client is not ready (not yet connected, reconnecting), counting falls back to this
 * process's memory (the library's insurance limiter) rather than failing or stalling sends:
 * limits then hold per instance until Redis is back. Pass a connected client, not an idle
 * `lazyConnect` one, which would stay in that fallback.
 */
export function createWindowCounter(options: { redis?: Redis; keyPrefix: string; clusterWorker?: boolean }): WindowCounter {
  const memory = new RateLimiterMemory({ keyPrefix: options.keyPrefix, points: NEVER_REFUSE, duration: 1 });
  const limiter: RateLimiterAbstract = options.redis
    ? new RateLimiterRedis({
        // ioredis is the library's default client: no useRedisPackage (that is for node-redis v4+).
        storeClient: options.redis,
        keyPrefix: options.keyPrefix,
        points: NEVER_REFUSE,
        duration: 1,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      })
    : options.clusterWorker
      ? // A worker of several Herald processes on one machine: the counts live in the primary
        // (app/cluster.ts starts the library's RateLimiterClusterMaster there), asked over IPC.
        new RateLimiterCluster({ keyPrefix: options.keyPrefix, points: NEVER_REFUSE, duration: 1, timeoutMs: 5_000 })
      : memory;

  return {
    add: async (key, points, windowSeconds) => {
      const res = await settle(limiter.consume(key, points, { customDuration: windowSeconds }));
      return { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
    },
    subtract: async (key, points, windowSeconds) => {
      await settle(limiter.reward(key, points, { customDuration: windowSeconds }));
    },
  };
}

// A limiter rejects with a RateLimiterRes when over its points (never, here) and with an Error
// when the store fails with no insurance to fall back on; only the latter is a failure.
async function settle(promise: Promise<RateLimiterRes>): Promise<RateLimiterRes> {
  try {
    return await promise;
  } catch (reason) {
    if (reason instanceof RateLimiterRes) return reason;
    throw reason;
  }
}

// Fixed-window counters on rate-limiter-flexible: in process memory, or in Redis so that every
// Herald instance counts into the same windows, or (several processes of one Herald without
// Redis, app/cluster.ts) in the primary's memory.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { answer, askPrimary } from '../concurrency/cluster-requests.js';
import { groupPerTurn } from '../concurrency/group-per-turn.js';

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
  if (options.clusterWorker && !options.redis) return primaryWindowCounter(options.keyPrefix);
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
    : memory;
  const counter = libraryCounter(memory);
  if (!options.redis) return counter;
  const redis = options.redis;
  return {
    add: libraryCounter(limiter).add,
    // Only into a window that is still open, in one step on the Redis server; while Redis is not
    // ready, from the insurance counts in memory, where add() counted.
    subtract: async (key, points, windowSeconds) => {
      if (redis.status !== 'ready') return counter.subtract(key, points, windowSeconds);
      await redis.eval(SUBTRACT_IF_OPEN, 1, limiter.getKey(key), points);
    },
  };
}

/** DECRBY only when the window's key still exists (it expires when the window closes). */
const SUBTRACT_IF_OPEN = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decrby', KEYS[1], ARGV[1]) end return 0";

function libraryCounter(limiter: RateLimiterAbstract): WindowCounter {
  return {
    add: async (key, points, windowSeconds) => {
      const res = await settle(limiter.consume(key, points, { customDuration: windowSeconds }));
      return { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
    },
    // A refused send takes back what it added, but only from the window it added to: the
    // library's reward() on a window that has closed meanwhile opens a new one below zero, which
    // would let that many extra sends through the next window.
    subtract: async (key, points, windowSeconds) => {
      const open = await limiter.get(key);
      if (!open || open.consumedPoints <= 0) return;
      await settle(limiter.reward(key, Math.min(points, open.consumedPoints), { customDuration: windowSeconds }));
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

/** One change of a window, as a worker sends it to the primary. */
interface WindowChange {
  key: string;
  /** Positive adds, negative takes back. */
  points: number;
  windowSeconds: number;
}

const CHANGES_TOPIC = 'limits:changes';
/** A primary that does not answer within this long fails the send rather than let it through uncounted. */
const PRIMARY_TIMEOUT_MS = 5_000;

/**
 * A cluster worker's counter: the counts live in the primary (answerWindowChanges), and every
 * change made in one turn of the event loop goes there as one IPC message with one answer.
 * rate-limiter-flexible's own RateLimiterCluster sends one message per change, each with its
 * own reply: a send makes about six changes (the key's request rate, the recipient's windows,
 * the account quota), so on two cores that IPC halved intake.
 */
function primaryWindowCounter(keyPrefix: string): WindowCounter {
  const change = groupPerTurn<WindowChange, WindowCount>(async (changes) => {
    const counts = await askPrimary<WindowCount[]>(CHANGES_TOPIC, PRIMARY_TIMEOUT_MS, changes);
    if (!counts || counts.length !== changes.length) throw new Error('the primary did not answer with the send-limit counts');
    return counts;
  });
  return {
    add: (key, points, windowSeconds) => change({ key: `${keyPrefix}:${key}`, points, windowSeconds }),
    subtract: async (key, points, windowSeconds) => void (await change({ key: `${keyPrefix}:${key}`, points: -points, windowSeconds })),
  };
}

/**
 * In the primary: keeps every worker's window counts in memory and applies each worker's
 * changes in the order they were made. Returns the stop.
 */
export function answerWindowChanges(): () => void {
  // The workers' keys carry their prefix already.
  const counter = libraryCounter(new RateLimiterMemory({ keyPrefix: '', points: NEVER_REFUSE, duration: 1 }));
  return answer({
    [CHANGES_TOPIC]: async (_from, value) => {
      const counts: WindowCount[] = [];
      for (const { key, points, windowSeconds } of value as WindowChange[]) {
        if (points >= 0) counts.push(await counter.add(key, points, windowSeconds));
        else {
          await counter.subtract(key, -points, windowSeconds);
          counts.push({ consumed: 0, msBeforeNext: 0 });
        }
      }
      return counts;
    },
  });
}

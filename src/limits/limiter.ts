// Frequency limits: Herald refuses with RATE_LIMITED, and an exact retryAfterSeconds, before a
// provider would refuse with a code of its own.
//
// Time: rate-limiter-flexible reads Date.now() itself, in memory and (for Redis) through key
// expiry, so there is no clock to inject here. Unit tests fake Date only
// (`vi.useFakeTimers({ toFake: ['Date'] })`); the library's cleanup timers stay real and are
// unref'd, and a window past its end is reset on its next use whether or not its timer ran.
import type { Redis } from 'ioredis';
import { RateLimitedError } from '../domain/errors.js';
import { forEachBounded } from './for-each-bounded.js';
import { quotaKey, recipientKey, requestKey, tokenSendKey } from './limit-keys.js';
import { defaultLimitPolicy, type LimitCategory, type LimitPolicy, type LimitWindow } from './policy.js';
import { createWindowCounter, type WindowCount } from './window-counter.js';

/** One message (or several to one recipient) to be counted before it is accepted. */
export interface SendToCheck {
  /** The recipient, normalised (E.164), so that every spelling of a number shares a counter. */
  recipient: string;
  /** The template's category; null or absent for a plain body (`LimitPolicy.plainBodyCategory`). */
  category?: LimitCategory | null;
  /** Messages this counts for, against the recipient's windows and the account quota. Default 1. */
  count?: number;
  /** Limits the caller has decided this send is not held to. */
  exempt?: { recipient?: boolean; quota?: boolean };
}

/** A refusal, or undefined when the send (or request) was counted and may go ahead. */
export type LimitResult = RateLimitedError | undefined;

export interface Limiter {
  /** Counts one API request of `apiKeyId` (which belongs to `accountId`). */
  consumeRequest(apiKeyId: string, accountId: string): Promise<LimitResult>;
  /**
   * Counts one send by an access token against the rate it was minted with (`perMinute`); a
   * refused send is not counted. On top of the account's own limits, which the send still meets.
   */
  consumeTokenSend(accountId: string, tokenId: string, perMinute: number): Promise<LimitResult>;
  /**
   * Counts a send against its recipient's windows and the account quota. A refused send
   * counts nowhere: what it added to the windows that did allow it is taken back.
   */
  checkSend(accountId: string, send: SendToCheck): Promise<LimitResult>;
  /**
   * `checkSend` for a batch, one result per item in order. Items are counted in order, so with
   * too little quota left the first ones are accepted; an item refused for its recipient does
   * not use quota. The account quota is counted once for the whole batch, not once per item.
   */
  checkSendMany(accountId: string, sends: readonly SendToCheck[]): Promise<LimitResult[]>;
  /** Waits for calls in flight. The Redis client is the caller's and is left open. */
  close(): Promise<void>;
}

export interface LimiterOptions {
  /** Shares counts between every Herald instance using the same Redis; absent = this process only. */
  redis?: Redis;
  /** Without Redis, in a worker of several Herald processes: counts shared through the primary. */
  clusterWorker?: boolean;
  /**
   * The policy of an account (see `resolveLimitPolicy`). Called once per limiter call, so a
   * database-backed one should cache. Default: `defaultLimitPolicy` for everyone.
   */
  policyFor?: (accountId: string) => LimitPolicy | Promise<LimitPolicy>;
  /** Prefix of every counter key. Default `herald:limits`. */
  keyPrefix?: string;
  /** Items of checkSendMany counted at once; each has a few windows, each a Redis round trip. */
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 256;

/** What the limiter's checks share: the counter and the policy source. */
interface LimiterParts {
  counter: ReturnType<typeof createWindowCounter>;
  policyFor: (accountId: string) => LimitPolicy | Promise<LimitPolicy>;
  concurrency: number;
}

export function createLimiter(options: LimiterOptions = {}): Limiter {
  const parts: LimiterParts = {
    counter: createWindowCounter({ redis: options.redis, clusterWorker: options.clusterWorker, keyPrefix: options.keyPrefix ?? 'herald:limits' }),
    policyFor: options.policyFor ?? (() => defaultLimitPolicy),
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
  };
  // Checks still running, so close() can wait for them.
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  const track = <T>(run: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the limiter is closed'));
    const promise = run();
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  };

  return {
    consumeRequest: (apiKeyId, accountId) => track(() => consumeRequest(parts, apiKeyId, accountId)),
    consumeTokenSend: (accountId, tokenId, perMinute) => track(() => consumeTokenSend(parts, accountId, tokenId, perMinute)),
    checkSend: (accountId, send) => track(async () => (await checkSendMany(parts, accountId, [send]))[0]),
    checkSendMany: (accountId, sends) => track(() => checkSendMany(parts, accountId, sends)),
    close: async () => {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}

async function consumeRequest({ counter, policyFor }: LimiterParts, apiKeyId: string, accountId: string): Promise<LimitResult> {
  const { requests } = await policyFor(accountId);
  const rate = await counter.add(requestKey(accountId, apiKeyId, 'rate', requests.perSeconds), 1, requests.perSeconds);
  if (rate.consumed <= requests.max) return undefined;
  const { burst } = requests;
  const describe = `at most ${requests.max} requests per ${requests.perSeconds} s for this API key`;
  if (!burst) return refuse(rate, describe);
  const extra = await counter.add(requestKey(accountId, apiKeyId, 'burst', burst.perSeconds), 1, burst.perSeconds);
  if (extra.consumed <= burst.max) return undefined;
  // Either pool refilling lets the next request through, so the wait is the shorter one.
  const sooner = rate.msBeforeNext <= extra.msBeforeNext ? rate : extra;
  return refuse(sooner, `${describe}, plus a burst of ${burst.max} per ${burst.perSeconds} s`);
}

const TOKEN_SEND_WINDOW_SECONDS = 60;

async function consumeTokenSend({ counter }: LimiterParts, accountId: string, tokenId: string, perMinute: number): Promise<LimitResult> {
  const key = tokenSendKey(accountId, tokenId, TOKEN_SEND_WINDOW_SECONDS);
  const count = await counter.add(key, 1, TOKEN_SEND_WINDOW_SECONDS);
  if (count.consumed <= perMinute) return undefined;
  await counter.subtract(key, 1, TOKEN_SEND_WINDOW_SECONDS);
  return refuse(count, `at most ${perMinute} messages per minute for this access token`);
}

async function checkSendMany({ counter, policyFor, concurrency }: LimiterParts, accountId: string, sends: readonly SendToCheck[]): Promise<LimitResult[]> {
  sends.forEach(assertSend);
  const policy = await policyFor(accountId);
  const results: LimitResult[] = new Array(sends.length).fill(undefined);
  const rulesOf = sends.map((send) => recipientRules(accountId, policy, send));

  // Recipient windows first: a send refused here must not use quota.
  await forEachBounded(sends.length, concurrency, async (index) => {
    const rules = rulesOf[index];
    if (rules.length === 0) return;
    const points = countOf(sends[index]);
    const counts = await Promise.all(rules.map((r) => counter.add(r.key, points, r.window.perSeconds)));
    const refusing = rules.flatMap((r, i) => (counts[i].consumed > r.window.max ? [{ rule: r, count: counts[i] }] : []));
    if (refusing.length === 0) return;
    await Promise.all(rules.map((r) => counter.subtract(r.key, points, r.window.perSeconds)));
    const longest = refusing.reduce((a, b) => (b.count.msBeforeNext > a.count.msBeforeNext ? b : a));
    const { window, what } = longest.rule;
    results[index] = refuse(longest.count, `at most ${window.max} ${what} per ${window.perSeconds} s to one recipient`);
  });

  const quotaRefused = await countQuota(counter, accountId, policy.accountQuota, sends, results);
  await forEachBounded(quotaRefused.length, concurrency, async (i) => {
    const index = quotaRefused[i];
    const points = countOf(sends[index]);
    await Promise.all(rulesOf[index].map((r) => counter.subtract(r.key, points, r.window.perSeconds)));
  });
  return results;
}

/**
 * Adds the whole batch to each quota window in one step, then accepts items in order while
 * every window has room; the rest is taken back. Fills `results` for refused items and
 * returns their indexes. Room is judged on the count right after this batch's own addition,
 * which includes every other concurrent addition: a race can refuse more, never accept more.
 */
async function countQuota(
  counter: LimiterParts['counter'],
  accountId: string,
  windows: readonly LimitWindow[],
  sends: readonly SendToCheck[],
  results: LimitResult[],
): Promise<number[]> {
  const counted = sends.flatMap((send, index) => (results[index] === undefined && !send.exempt?.quota ? [index] : []));
  if (counted.length === 0 || windows.length === 0) return [];
  const total = counted.reduce((sum, index) => sum + countOf(sends[index]), 0);
  const counts = await Promise.all(windows.map((w) => counter.add(quotaKey(accountId, w.perSeconds), total, w.perSeconds)));
  const room = windows.map((w, i) => Math.max(0, w.max - (counts[i].consumed - total)));
  const minRoom = Math.min(...room);
  if (total <= minRoom) return [];

  const refused: number[] = [];
  let running = 0;
  let accepted = 0;
  for (const index of counted) {
    running += countOf(sends[index]);
    if (running <= minRoom) {
      accepted = running;
      continue;
    }
    const short = windows.flatMap((w, i) => (room[i] < running ? [{ window: w, count: counts[i] }] : []));
    const longest = short.reduce((a, b) => (b.count.msBeforeNext > a.count.msBeforeNext ? b : a));
    results[index] = refuse(longest.count, `account quota of ${longest.window.max} messages per ${longest.window.perSeconds} s reached`);
    refused.push(index);
  }
  await Promise.all(windows.map((w) => counter.subtract(quotaKey(accountId, w.perSeconds), total - accepted, w.perSeconds)));
  return refused;
}

interface RecipientRule {
  key: string;
  /** How a refusal names the rule: "OTP messages", or "messages" for the total. */
  what: string;
  window: LimitWindow;
}

function recipientRules(accountId: string, policy: LimitPolicy, send: SendToCheck): RecipientRule[] {
  if (send.exempt?.recipient) return [];
  const category = send.category ?? policy.plainBodyCategory;
  return [
    ...policy.recipient[category].map((window) => ({
      key: recipientKey(accountId, category, window.perSeconds, send.recipient),
      what: `${category} messages`,
      window,
    })),
    ...policy.recipientTotal.map((window) => ({
      key: recipientKey(accountId, 'ALL', window.perSeconds, send.recipient),
      what: 'messages',
      window,
    })),
  ];
}

const countOf = (send: SendToCheck) => send.count ?? 1;

// Bad input here is a bug in the caller (the API validates before counting), so it throws.
function assertSend(send: SendToCheck): void {
  if (!send.recipient) throw new TypeError('a send to check needs a recipient');
  const count = countOf(send);
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
}

/** Refused until the window that refused reopens; a whole second at least, rounded up. */
function refuse(count: WindowCount, reason: string): RateLimitedError {
  const retryAfterSeconds = Math.max(1, Math.ceil(count.msBeforeNext / 1000));
  return new RateLimitedError(retryAfterSeconds, `${reason}; retry after ${retryAfterSeconds} s`);
}

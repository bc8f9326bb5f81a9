// What events() and inbound() read after a reconnection, so that nothing that happened while
// the socket was down is lost and nothing is yielded twice (realtime.ts runs the catch-up before
// any later live item). Items are keyed (a message by id and status, a reply by id) and placed
// in time by the server's own timestamps; the catch-up reads from the latest one seen.
import type { Resume } from './realtime.js';

/**
 * The catch-up reads from this long before the latest item seen: the status change and the
 * message's updatedAt are stamped a moment apart (the database's clock and the server's).
 */
const MARGIN_MS = 2_000;
/** Keys older than this before the latest are forgotten: no catch-up can return them again. */
const FORGET_MS = 10 * MARGIN_MS;
/** Messages or replies per page of a catch-up read (the API's most). */
export const CATCH_UP_PAGE_SIZE = 100;

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** The keys yielded, with their time, and where the next catch-up reads from. */
class Seen {
  readonly #keys = new Map<string, number>();
  #latest: number;
  /** `start`: before any item, the catch-up reads from when the caller started listening. */
  constructor(start: number) {
    this.#latest = start;
  }

  /** False when `key` was yielded already; else remembers it. */
  fresh(key: string, at: number): boolean {
    if (this.#keys.has(key)) return false;
    this.#keys.set(key, at);
    if (at > this.#latest) this.#latest = at;
    if (this.#keys.size > 1_000) for (const [k, t] of this.#keys) if (t < this.#latest - FORGET_MS) this.#keys.delete(k);
    return true;
  }

  get since(): Date {
    return new Date(this.#latest - MARGIN_MS);
  }
}

interface MessageLike {
  id: string;
  status: string;
  updatedAt: string;
}

/**
 * events(): after a reconnection, the messages whose status changed since the latest transition
 * seen (MessageFilter.changedAfter), of the batch if one is given, in their current state, oldest
 * change first. With a status filter only those whose current status is in it: a status the
 * message passed through and left while disconnected is not told (as watch() tells only the
 * latest), which loses nothing when the filter names final statuses.
 */
export function messageEventsResume<M extends MessageLike, R>(
  wrap: (message: M) => R,
  unwrap: (result: R) => M,
  list: (filter: { batchId?: string | null; changedAfter: string }, after: string | null) => Promise<Page<M>>,
  filter: { batchId?: string | null; status?: readonly string[] | null } | undefined,
  start = Date.now(),
): Resume<R> {
  const seen = new Seen(start);
  return {
    fresh: (result) => {
      const m = unwrap(result);
      return seen.fresh(`${m.id}:${m.status}`, Date.parse(m.updatedAt));
    },
    async missed() {
      const changedAfter = seen.since.toISOString();
      const found: M[] = [];
      for (let after: string | null = null; ; ) {
        const page: Page<M> = await list({ ...(filter?.batchId && { batchId: filter.batchId }), changedAfter }, after);
        found.push(...page.items);
        if (!page.hasNextPage || !page.endCursor) break;
        after = page.endCursor;
      }
      const statuses = filter?.status?.length ? new Set(filter.status) : undefined;
      return found
        .filter((m) => !statuses || statuses.has(m.status))
        .sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt))
        .map(wrap);
    },
  };
}

/** inbound(): after a reconnection, the replies stored since the latest one seen, oldest first. */
export function inboundResume<I extends { id: string; createdAt: string }, R>(
  wrap: (inbound: I) => R,
  unwrap: (result: R) => I,
  list: (after: string | null) => Promise<Page<I>>,
  start = Date.now(),
): Resume<R> {
  const seen = new Seen(start);
  return {
    fresh: (result) => {
      const m = unwrap(result);
      return seen.fresh(m.id, Date.parse(m.createdAt));
    },
    async missed() {
      const since = seen.since.getTime();
      const found: I[] = [];
      // Newest first: read until one older than the catch-up's start.
      for (let after: string | null = null; ; ) {
        const page: Page<I> = await list(after);
        const newer = page.items.filter((m) => Date.parse(m.createdAt) > since);
        found.push(...newer);
        if (newer.length < page.items.length || !page.hasNextPage || !page.endCursor) break;
        after = page.endCursor;
      }
      return found.reverse().map(wrap);
    },
  };
}

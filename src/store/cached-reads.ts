// Reads that nearly every request makes and that rarely change (an API key by its prefix, an
// account's sender identities), kept in memory: a send used to spend two of its five database
// round trips on them. What changes them announces it (store/invalidation.ts), so a revoked key
// is refused from its next request on every process; the time limit only bounds how long a
// change whose announcement was lost stays unseen.
import { onChange, type CachedKind } from './invalidation.js';

/** Entries beyond this are dropped all at once (unknown keys are never kept, so this is a guard). */
const MAX_ENTRIES = 10_000;

export interface CachedReads<Value> {
  get(key: string): Promise<Value>;
  /** Stops listening for changes. */
  close(): void;
}

/**
 * Caches `load(key)` (the promise itself, so that concurrent reads share one load) for `ttlMs`.
 * A change of `kind` drops the entry of its id (`byId` maps a cached value to the ids it
 * answers for; without it every entry is dropped). A value that `keep` refuses (a miss) is not
 * kept, nor is a failed load.
 */
export function cachedReads<Value>(options: {
  kind: CachedKind;
  ttlMs: number;
  load: (key: string) => Promise<Value>;
  keep?: (value: Value) => boolean;
  /** Whether a change of `id` concerns this entry; default: the entry's key is the id. */
  concerns?: (key: string, value: Value | undefined, id: string) => boolean;
}): CachedReads<Value> {
  const entries = new Map<string, { value: Promise<Value>; settled?: Value; until: number }>();
  const concerns = options.concerns ?? ((key, _value, id) => key === id);
  const stop = onChange((kind, id) => {
    if (kind !== null && kind !== options.kind) return;
    if (id === null) return entries.clear();
    for (const [key, entry] of entries) if (concerns(key, entry.settled, id)) entries.delete(key);
  });
  return {
    get(key) {
      const now = Date.now();
      const hit = entries.get(key);
      if (hit && hit.until > now) return hit.value;
      if (entries.size >= MAX_ENTRIES) entries.clear();
      const value = options.load(key);
      const entry: { value: Promise<Value>; settled?: Value; until: number } = { value, until: now + options.ttlMs };
      entries.set(key, entry);
      const drop = () => entries.get(key) === entry && entries.delete(key);
      value.then((v) => (options.keep && !options.keep(v) ? drop() : (entry.settled = v)), drop);
      return value;
    },
    close: stop,
  };
}

// The one way Herald groups the calls made in one turn of the event loop into one call: send
// lookups (key, identities, opt-out), message inserts, status changes, the simulator's store and
// subscription reads all use it.
//
// DataLoader does the grouping (a well-kept library; its cache is off, so every call still reads
// or writes the database). What this adds is when a group closes: at the next macrotask rather
// than DataLoader's default of the end of the current microtask queue. Requests arrive on their
// own sockets, each in its own I/O callback, so with the default every request made a group of
// one (the end-to-end bench logged one key lookup per send); with setImmediate, what arrived in
// one poll of the event loop is one group.
import DataLoader from 'dataloader';

export interface GroupOptions<Key> {
  /** Largest group (one statement's parameter list); more calls in the turn make more groups. */
  maxGroupSize?: number;
  /**
   * Calls with equal keys share one slot and one answer. By default every call has its own slot
   * (keys are compared by identity), which is what writes need.
   */
  keyOf?: (key: Key) => unknown;
}

/**
 * Returns a function that queues `key` and resolves with its answer once `runGroup` has run for
 * every key queued in the same turn. `runGroup` returns one answer per key, in order; an Error
 * in a slot rejects that call alone, a thrown error rejects the whole group.
 */
export function groupPerTurn<Key, Answer>(
  runGroup: (keys: readonly Key[]) => Promise<ReadonlyArray<Answer | Error>>,
  options: GroupOptions<Key> = {},
): (key: Key) => Promise<Answer> {
  const loader = new DataLoader<Key, Answer, unknown>(runGroup, {
    cache: false,
    batchScheduleFn: (run) => setImmediate(run),
    ...(options.maxGroupSize && { maxBatchSize: options.maxGroupSize }),
    ...(options.keyOf && { cacheKeyFn: options.keyOf }),
  });
  return (key) => loader.load(key);
}

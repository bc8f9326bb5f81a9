// Work that must not overlap for one key (verification starts to one number range, which wait
// for each other on a database lock anyway) queues here, in this process, in arrival order:
// waiting here holds no database connection, while waiting on the lock holds one of the pool's
// few, which under a burst left none for any other request (a soak saw "Unable to start a
// transaction in the given time" on sends and inbound webhooks). Work for other keys runs
// alongside. A map of promise chains; async-mutex, the usual library, has no keyed form.

export type OneAtATime = <T>(key: string, work: () => Promise<T>) => Promise<T>;

/** Returns a runner that starts `work` for a key once the earlier work for that key has settled. */
export function oneAtATime(): OneAtATime {
  const tails = new Map<string, Promise<void>>();
  return (key, work) => {
    const result = (tails.get(key) ?? Promise.resolve()).then(work);
    const tail = result.then(
      () => {},
      () => {},
    );
    tails.set(key, tail);
    // The last in line removes its key, so the map holds only keys with work queued.
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return result;
  };
}

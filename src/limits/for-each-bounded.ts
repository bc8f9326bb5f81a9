/**
 * Runs `run(0 … count-1)` with at most `concurrency` calls in flight, in index order. Stops
 * starting new calls after the first failure and rejects with it.
 */
export async function forEachBounded(count: number, concurrency: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const work = async () => {
    while (!failed && next < count) {
      const index = next++;
      try {
        await run(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), count) }, work));
}

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential with "full jitter"
 * (a random delay between half and all of base·2^(attempt-1), capped), so a provider outage
 * does not make every dispatcher retry in lockstep. `random` is injectable for tests.
 */
export function retryDelayMs(attempt: number, options: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

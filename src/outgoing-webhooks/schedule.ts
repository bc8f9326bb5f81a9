// When to try an outgoing webhook again; the schedule itself is configured by
// WEBHOOK_RETRY_SCHEDULE (config/retry-schedule.ts).

/** Delay before the next attempt after attempt number `attempt` (1-based) failed; undefined = give up. */
export function nextDelayMs(schedule: readonly number[], attempt: number): number | undefined {
  return schedule[attempt - 1];
}

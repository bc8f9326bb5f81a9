// The retry schedule: the delay before each retry after a failed attempt. The default follows
// Standard Webhooks' reference schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): eight
// attempts over about 28 hours. WEBHOOK_RETRY_SCHEDULE overrides it (tests use milliseconds).

export const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "5s,5m,2h" → [5000, 300000, 7200000]; throws on anything else. An empty list = no retries. */
export function parseRetrySchedule(text: string): number[] {
  if (text.trim() === '' || text.trim() === 'none') return [];
  return text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(part);
    if (!match) throw new Error(`"${part.trim()}" is not a delay like 500ms, 5s, 5m or 2h`);
    return Math.round(Number(match[1]) * UNITS[match[2]!]!);
  });
}

// Turns `messageStats` answers grouped by one dimension (PROVIDER, COUNTRY), one answer per day,
// into one chart series per key: volume, delivery rate (%) and median seconds to delivery per day.
// Pure (no DOM, no fetch) so it is tested without a browser (test/unit/console-helpers.test.ts).

export interface StatsGroup {
  key: string; label: string | null; total: number; delivered: number; segments: number; deliveryRate: number | null; medianSecondsToDelivery: number | null;
  undelivered: number; failed: number; rejected: number; expired: number;
}
/** The fields a StatsGroup is read with. */
export const STATS_GROUP = 'key label total delivered segments deliveryRate medianSecondsToDelivery undelivered failed rejected expired';

export interface KeySeries { key: string; label: string; total: number[]; rate: (number | null)[]; median: (number | null)[] }

/** The key under which the keys beyond `limit` are added up (a chart of 40 countries is unreadable). */
export const OTHER_KEY = '__other__';

const percent = (g: StatsGroup | undefined): number | null =>
  g?.deliveryRate === null || g?.deliveryRate === undefined ? null : g.deliveryRate * 100;

/**
 * `perDay[i]` holds day i's groups. Keys are ordered by their volume over all days (ties by key);
 * the first `limit` keep their own series, the rest are summed into one OTHER_KEY series whose
 * rate is computed as the server computes it, delivered / final (delivered, undelivered, failed,
 * rejected, expired), and whose median is unknown (medians do not add up).
 * A day without a key's messages has volume 0 and no rate or median (a gap, not a zero).
 */
export function seriesByKey(perDay: StatsGroup[][], limit = 6, label: (g: StatsGroup) => string = (g) => g.label ?? g.key): KeySeries[] {
  const volume = new Map<string, number>();
  const labels = new Map<string, string>();
  for (const groups of perDay) {
    for (const g of groups) {
      volume.set(g.key, (volume.get(g.key) ?? 0) + g.total);
      labels.set(g.key, label(g));
    }
  }
  const keys = [...volume.keys()].sort((a, b) => volume.get(b)! - volume.get(a)! || a.localeCompare(b));
  const own = keys.slice(0, keys.length > limit ? limit - 1 : limit);
  const rest = new Set(keys.slice(own.length));
  const series: KeySeries[] = own.map((key) => {
    const at = perDay.map((groups) => groups.find((g) => g.key === key));
    return { key, label: labels.get(key)!, total: at.map((g) => g?.total ?? 0), rate: at.map(percent), median: at.map((g) => g?.medianSecondsToDelivery ?? null) };
  });
  if (rest.size) {
    const sums = perDay.map((groups) => groups.filter((g) => rest.has(g.key)).reduce((s, g) => ({
      total: s.total + g.total, delivered: s.delivered + g.delivered,
      final: s.final + g.delivered + g.undelivered + g.failed + g.rejected + g.expired,
    }), { total: 0, delivered: 0, final: 0 }));
    series.push({
      key: OTHER_KEY, label: OTHER_KEY,
      total: sums.map((s) => s.total),
      rate: sums.map((s) => (s.final ? (s.delivered / s.final) * 100 : null)),
      median: sums.map(() => null),
    });
  }
  return series;
}

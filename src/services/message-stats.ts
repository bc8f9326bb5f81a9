// messageStats: the account's messages in [from, to) grouped by one dimension, with the total,
// each group labelled and the groups in reading order.
//
// Two ways to the same counts. Fast (the default): the days of the range that are over come from
// the rollup (store/message-stats-rollup.ts), the rest is counted live (store/message-stats.ts,
// liveParts), and medians come from the histograms both carry, within MAX_RELATIVE_ERROR
// (domain/stats-histogram.ts). Exact: one statement over every message of the range with
// percentile_cont (store/message-stats.ts, aggregate), 1-2.5 s at a million messages; taken when
// asked for, and when the range holds at most EXACT_BELOW messages (the fast way's counts say so),
// where it costs little: small ranges keep exact medians. A range touching a day whose messages
// retention deleted is always counted the fast way: that day is in the rollup only.
import type { ValidationError } from '../domain/errors.js';
import { histogramMedian, mergeParts, totalOf, type StatsPart } from '../domain/stats-histogram.js';
import { NONE_KEY, checkStatsRange, countryLabel, deliveryRate, liveIntervals, wholeDays, type StatsCounts, type StatsGroupBy } from '../domain/stats.js';
import type { MessageStatsRollup } from '../store/message-stats-rollup.js';
import type { CostRow, MessageStatsReads, StatsRange, StatsRow } from '../store/message-stats.js';
import { sumByCurrency, type Money } from '../domain/money.js';

/** Up to this many messages in the range, medians are computed exactly (about 0.1 s on PostgreSQL). */
export const EXACT_BELOW = 50_000;

export interface StatsSources {
  reads: MessageStatsReads;
  rollup: Pick<MessageStatsRollup, 'currentDays' | 'parts' | 'costParts' | 'purgedIn'>;
}

export interface StatsGroup extends StatsCounts {
  key: string;
  label: string | null;
  segments: number;
  deliveryRate: number | null;
  /** Median of deliveredAt - createdAt over the group's DELIVERED messages, in seconds. */
  medianSecondsToDelivery: number | null;
  /** Sum of the messages' recorded estimated costs, one per currency (by currency code). */
  costs: Money[];
}

export interface MessageStats {
  from: Date;
  to: Date;
  groupBy: StatsGroupBy;
  groups: StatsGroup[];
  totals: StatsGroup;
}

export async function messageStats(
  sources: StatsSources,
  accountId: string,
  args: { from: Date; to: Date; groupBy: StatsGroupBy; exact?: boolean },
  options: { exactBelow?: number } = {},
): Promise<MessageStats | ValidationError> {
  const invalid = checkStatsRange(args.from, args.to);
  if (invalid) return invalid;
  const range = { accountId, from: args.from, to: args.to };
  let rows: StatsRow[] | undefined;
  let costRows: CostRow[] | undefined;
  // Days whose messages retention deleted are only in the rollup: a range touching one is always
  // counted the fast way (medians from histograms), `exact` or not.
  const purged = await sources.rollup.purgedIn(accountId, args.from, args.to);
  if (!args.exact || purged) {
    const fast = await fastRows(sources, range, args.groupBy);
    if (purged || fast.total > (options.exactBelow ?? EXACT_BELOW)) [rows, costRows] = [fast.rows, await fast.costs()];
  }
  if (!rows) [rows, costRows] = await Promise.all([sources.reads.aggregate(range, args.groupBy), sources.reads.costs(range, args.groupBy)]);
  const costs = costsByKey(costRows!);

  const labels = await labelsFor(sources.reads, accountId, args.groupBy, rows);
  const toGroup = (row: StatsRow): StatsGroup => {
    const { total, delivered, undelivered, failed, rejected, expired, canceled, inFlight } = row;
    const counts: StatsCounts = { total, delivered, undelivered, failed, rejected, expired, canceled, inFlight };
    const key = row.key ?? NONE_KEY;
    const costKey = row.isTotal ? TOTAL_KEY : key;
    return { key, label: labels.get(key) ?? null, ...counts, segments: row.segments, deliveryRate: deliveryRate(counts), medianSecondsToDelivery: row.medianSeconds, costs: costs.get(costKey) ?? [] };
  };

  const totalRow = rows.find((r) => r.isTotal);
  const groups = rows.filter((r) => !r.isTotal).map(toGroup);
  // Days read in order; every other dimension biggest first.
  groups.sort(args.groupBy === 'DAY' ? (a, b) => a.key.localeCompare(b.key) : (a, b) => b.total - a.total || a.key.localeCompare(b.key));
  const totals = totalRow
    ? { ...toGroup(totalRow), key: 'TOTAL', label: null }
    : { key: 'TOTAL', label: null, total: 0, delivered: 0, undelivered: 0, failed: 0, rejected: 0, expired: 0, canceled: 0, inFlight: 0, segments: 0, deliveryRate: null, medianSecondsToDelivery: null, costs: [] };
  return { from: args.from, to: args.to, groupBy: args.groupBy, groups, totals };
}

const TOTAL_KEY = '\u0000total';

/** Cost rows as Money lists by group key (NONE_KEY for no key, TOTAL_KEY for the total), currencies in order. */
function costsByKey(rows: readonly CostRow[]): Map<string, Money[]> {
  const byKey = new Map<string, Money[]>();
  for (const row of rows) {
    const key = row.isTotal ? TOTAL_KEY : (row.key ?? NONE_KEY);
    byKey.set(key, [...(byKey.get(key) ?? []), { micros: row.micros, currency: row.currency }]);
  }
  for (const [key, amounts] of byKey) {
    byKey.set(key, [...sumByCurrency(amounts)].sort(([a], [b]) => a.localeCompare(b)).map(([currency, micros]) => ({ currency, micros })));
  }
  return byKey;
}

/**
 * The rolled-up days of the range plus the live rest, added up; medians from the histograms.
 * `costs()` reads the same days' costs (and adds the total rows), when the caller keeps this way.
 */
async function fastRows(sources: StatsSources, range: StatsRange, groupBy: StatsGroupBy): Promise<{ rows: StatsRow[]; total: number; costs: () => Promise<CostRow[]> }> {
  const whole = wholeDays(range.from, range.to);
  const rolled = whole ? await sources.rollup.currentDays(range.accountId, whole.firstDay, whole.endDay) : [];
  const intervals = liveIntervals(range.from, range.to, rolled);
  const [fromRollup, live] = await Promise.all([
    sources.rollup.parts(range.accountId, rolled, groupBy),
    sources.reads.liveParts({ accountId: range.accountId, intervals }, groupBy),
  ]);
  const costs = async () => {
    const parts = (
      await Promise.all([sources.rollup.costParts(range.accountId, rolled, groupBy), sources.reads.liveCosts({ accountId: range.accountId, intervals }, groupBy)])
    ).flat();
    return [...parts, ...parts.map((p) => ({ ...p, key: null, isTotal: true }))];
  };
  const groups = mergeParts([...fromRollup, ...live]);
  const total = totalOf(groups);
  const toRow = (part: StatsPart, isTotal: boolean): StatsRow => ({
    key: part.key,
    isTotal,
    ...part.counts,
    segments: part.segments,
    medianSeconds: histogramMedian(part.histogram),
  });
  // No total row without messages, as the exact statement has none.
  const rows = groups.map((g) => toRow(g, false));
  if (total.counts.total > 0) rows.push(toRow(total, true));
  return { rows, total: total.counts.total, costs };
}

async function labelsFor(stats: MessageStatsReads, accountId: string, groupBy: StatsGroupBy, rows: StatsRow[]): Promise<Map<string, string>> {
  const labels = new Map<string, string>();
  const keys = rows.filter((r) => !r.isTotal && r.key !== null).map((r) => r.key!);
  if (groupBy === 'COUNTRY') for (const k of keys) labels.set(k, countryLabel(k) ?? k);
  if (groupBy === 'TEMPLATE') {
    labels.set(NONE_KEY, 'No template');
    for (const [id, name] of await stats.templateNames(accountId, keys)) labels.set(id, name);
  }
  if (groupBy === 'PROVIDER') labels.set(NONE_KEY, 'Not submitted to a provider');
  return labels;
}

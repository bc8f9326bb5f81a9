// messageStats: the account's messages in [from, to) grouped by one dimension, with the total
// (the aggregate is store/message-stats.ts), each group labelled and the groups in reading order.
import { NONE_KEY, checkStatsRange, countryLabel, deliveryRate, type StatsCounts, type StatsGroupBy } from '../domain/stats.js';
import type { ValidationError } from '../domain/errors.js';
import type { MessageStatsReads, StatsRow } from '../store/message-stats.js';

export interface StatsGroup extends StatsCounts {
  key: string;
  label: string | null;
  segments: number;
  deliveryRate: number | null;
  /** Median of deliveredAt - createdAt over the group's DELIVERED messages, in seconds. */
  medianSecondsToDelivery: number | null;
}

export interface MessageStats {
  from: Date;
  to: Date;
  groupBy: StatsGroupBy;
  groups: StatsGroup[];
  totals: StatsGroup;
}

export async function messageStats(
  stats: MessageStatsReads,
  accountId: string,
  args: { from: Date; to: Date; groupBy: StatsGroupBy },
): Promise<MessageStats | ValidationError> {
  const invalid = checkStatsRange(args.from, args.to);
  if (invalid) return invalid;
  const rows = await stats.aggregate({ accountId, from: args.from, to: args.to }, args.groupBy);

  const labels = await labelsFor(stats, accountId, args.groupBy, rows);
  const toGroup = (row: StatsRow): StatsGroup => {
    const { total, delivered, undelivered, failed, rejected, expired, canceled, inFlight } = row;
    const counts: StatsCounts = { total, delivered, undelivered, failed, rejected, expired, canceled, inFlight };
    const key = row.key ?? NONE_KEY;
    return { key, label: labels.get(key) ?? null, ...counts, segments: row.segments, deliveryRate: deliveryRate(counts), medianSecondsToDelivery: row.medianSeconds };
  };

  const totalRow = rows.find((r) => r.isTotal);
  const groups = rows.filter((r) => !r.isTotal).map(toGroup);
  // Days read in order; every other dimension biggest first.
  groups.sort(args.groupBy === 'DAY' ? (a, b) => a.key.localeCompare(b.key) : (a, b) => b.total - a.total || a.key.localeCompare(b.key));
  const totals = totalRow
    ? { ...toGroup(totalRow), key: 'TOTAL', label: null }
    : { key: 'TOTAL', label: null, total: 0, delivered: 0, undelivered: 0, failed: 0, rejected: 0, expired: 0, canceled: 0, inFlight: 0, segments: 0, deliveryRate: null, medianSecondsToDelivery: null };
  return { from: args.from, to: args.to, groupBy: args.groupBy, groups, totals };
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

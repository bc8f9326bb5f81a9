// messageStats: counts, segments, delivery rate and median time to delivery of the caller's
// account, grouped by one dimension. The work is in src/services/message-stats.ts.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { NONE_KEY, statsGroupBys } from '../domain/stats.js';
import { BUCKETS_PER_DOUBLING, MAX_RELATIVE_ERROR, MAX_SECONDS, MIN_SECONDS } from '../domain/stats-histogram.js';
import { EXACT_BELOW, messageStats, type MessageStats as Stats, type StatsGroup } from '../services/message-stats.js';
import { builder } from './builder.js';
import { formatMicros } from '../domain/money.js';
import { MoneyRef } from './message-routing.js';
import { unwrap } from './unwrap.js';

const StatsGroupByEnum = builder.enumType('StatsGroupBy', {
  description:
    'DAY: UTC day of creation (key "2026-11-25"). PROVIDER: provider name ("NONE" before submission). STATUS: current status. ' +
    'COUNTRY: ISO code from the number\'s calling code ("ZZ" unknown). TEMPLATE: template id ("NONE" without a template).',
  values: statsGroupBys,
});

const MessageStatsGroup = builder.objectRef<StatsGroup>('MessageStatsGroup').implement({
  description: 'Messages of one group created in the range. Counts are by current status, so they add up to `total`.',
  fields: (t) => ({
    key: t.exposeString('key'),
    label: t.exposeString('label', { nullable: true, description: 'Readable name where the key is not: country or template name.' }),
    total: t.exposeInt('total'),
    delivered: t.exposeInt('delivered'),
    undelivered: t.exposeInt('undelivered'),
    failed: t.exposeInt('failed'),
    rejected: t.exposeInt('rejected'),
    expired: t.exposeInt('expired'),
    canceled: t.exposeInt('canceled'),
    inFlight: t.exposeInt('inFlight', { description: 'SCHEDULED, QUEUED, SENDING or SENT: no outcome yet.' }),
    segments: t.exposeInt('segments'),
    deliveryRate: t.exposeFloat('deliveryRate', {
      nullable: true,
      description: 'delivered / (delivered + undelivered + failed + rejected + expired); null when none is final yet.',
    }),
    medianSecondsToDelivery: t.exposeFloat('medianSecondsToDelivery', {
      nullable: true,
      description:
        `Median of deliveredAt - createdAt over the DELIVERED messages, in seconds. Exact when the range holds at most ${EXACT_BELOW.toLocaleString('en-US')} messages or \`exact\` is true; ` +
        `otherwise from a histogram of log-scale buckets (${BUCKETS_PER_DOUBLING} per doubling), within ±${(MAX_RELATIVE_ERROR * 100).toFixed(1)} % of the exact median ` +
        `when that lies between ${MIN_SECONDS * 1000} ms and ${Math.round(MAX_SECONDS / 86_400)} days. Counts are always exact.`,
    }),
    cost: t.field({
      type: [MoneyRef],
      description:
        'What the messages cost, one exact total per currency (by currency code): the sum of the estimated cost each message recorded when a provider took it ' +
        '(segments × that provider\'s price then). Messages without a known price, and messages no provider has taken yet, add nothing; empty when none has a cost.',
      resolve: (g) => g.costs.map((m) => ({ amount: formatMicros(m.micros), currency: m.currency })),
    }),
  }),
});

const MessageStats = builder.objectRef<Stats>('MessageStats').implement({
  fields: (t) => ({
    from: t.expose('from', { type: 'DateTime', description: 'Inclusive.' }),
    to: t.expose('to', { type: 'DateTime', description: 'Exclusive.' }),
    groupBy: t.expose('groupBy', { type: StatsGroupByEnum }),
    groups: t.expose('groups', { type: [MessageStatsGroup], description: 'By day in order; otherwise biggest first.' }),
    totals: t.expose('totals', { type: MessageStatsGroup, description: 'Every message in the range (key "TOTAL").' }),
  }),
});

// docs/api.md fixes `messageStats(from: DateTime, to: DateTime): MessageStats!`: both bounds optional
// (the last 30 days by default), `groupBy` added (STATUS by default), and the result is the stats
// themselves; a bad range is a GraphQL error with code VALIDATION_FAILED and its issues.
const DEFAULT_RANGE_MS = 30 * 86_400_000;

builder.queryField('messageStats', (t) =>
  t.field({
    type: MessageStats,
    description:
      "Analytics of the account's messages created in [from, to) (at most 400 days; default the 30 days before `to`, `to` default now), grouped by `groupBy` (default STATUS). A bad range is an error with code VALIDATION_FAILED.",
    args: {
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
      groupBy: t.arg({ type: StatsGroupByEnum, required: false, defaultValue: 'STATUS' }),
      exact: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: `Exact medians over a range of more than ${EXACT_BELOW.toLocaleString('en-US')} messages: one pass over all of them (seconds at a million messages) instead of the rollup's histograms.`,
      }),
    },
    resolve: async (_root, args, ctx) => {
      const to = args.to ?? new Date();
      const from = args.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
      const sources = { reads: ctx.store.stats, rollup: ctx.store.statsRollup };
      const result = unwrap(await messageStats(sources, ctx.auth.accountId, { from, to, groupBy: args.groupBy ?? 'STATUS', exact: args.exact ?? false }));
      if (result.groupBy !== 'TEMPLATE') return result;
      // Template keys are the API's global ids, as everywhere else (templateId filters take them).
      return { ...result, groups: result.groups.map((g) => (g.key === NONE_KEY ? g : { ...g, key: encodeGlobalID('Template', g.key) })) };
    },
  }),
);

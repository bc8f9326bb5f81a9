// providers: each configured provider's circuit, limits and recent outcomes (this instance's view),
// and its measured quality per destination country (every instance's, from the database).
import { selectQuality, type ProviderCountryQuality, type QualityFigures } from '../domain/provider-quality.js';
import { MAX_RELATIVE_ERROR } from '../domain/stats-histogram.js';
import { builder } from './builder.js';
import { unwrap } from './unwrap.js';

const ProviderStateEnum = builder.enumType('ProviderState', {
  description: 'UP: circuit closed. DEGRADED: half-open, probing after failures. DOWN: circuit open, no traffic sent.',
  values: ['UP', 'DEGRADED', 'DOWN'] as const,
});
const CircuitStateEnum = builder.enumType('CircuitState', { values: ['CLOSED', 'OPEN', 'HALF_OPEN'] as const });

const ProviderQualityFigures = builder.objectRef<QualityFigures>('ProviderQualityFigures').implement({
  description:
    'What every Herald process and instance counted for one provider and destination country over one window. An outcome counts in the ' +
    'minute Herald recorded it (the answer to a submission, the final report, the deadline passing), and a window takes whole minutes: ' +
    'the minute that started `windowSeconds` ago up to now.',
  fields: (t) => ({
    windowSeconds: t.exposeInt('windowSeconds'),
    submitted: t.exposeInt('submitted', { description: 'Submissions the provider accepted.' }),
    submitErrors: t.exposeInt('submitErrors', { description: 'Submissions it refused, or that failed or timed out (every attempt counts).' }),
    submitErrorRate: t.exposeFloat('submitErrorRate', { nullable: true, description: 'submitErrors / (submitted + submitErrors); null without submissions.' }),
    delivered: t.exposeInt('delivered', { description: 'Final DELIVERED reports.' }),
    failed: t.exposeInt('failed', { description: "Final reports that are not DELIVERED: UNDELIVERED, FAILED, and a carrier's REJECTED or EXPIRED." }),
    reportsMissing: t.exposeInt('reportsMissing', {
      description: 'Messages whose report never came before DELIVERY_REPORT_DEADLINE_MS (made EXPIRED by Herald, statusSynthetic).',
    }),
    deliveryRate: t.exposeFloat('deliveryRate', { nullable: true, description: 'delivered / (delivered + failed + reportsMissing); null when all three are 0.' }),
    reportsMissingShare: t.exposeFloat('reportsMissingShare', { nullable: true, description: 'reportsMissing / submitted; null without accepted submissions.' }),
    deliveryP50Ms: t.exposeFloat('deliveryP50Ms', {
      nullable: true,
      description: `Median time from SENT (sentAt) to DELIVERED, in ms, from log-scale buckets: within ±${(MAX_RELATIVE_ERROR * 100).toFixed(1)} %. null without a delivery whose sentAt is known.`,
    }),
    deliveryP95Ms: t.exposeFloat('deliveryP95Ms', { nullable: true, description: '95th percentile of the same, as deliveryP50Ms.' }),
  }),
});

const ProviderQuality = builder.objectRef<ProviderCountryQuality>('ProviderQuality').implement({
  description: "A provider's measured quality for one destination country, over the last 5 minutes, hour and 24 hours.",
  fields: (t) => ({
    country: t.exposeString('country', { description: 'ISO 3166 alpha-2 code of the recipients\' numbers ("ZZ": numbers placed in no country).' }),
    last5Minutes: t.expose('last5Minutes', { type: ProviderQualityFigures }),
    lastHour: t.expose('lastHour', { type: ProviderQualityFigures }),
    last24Hours: t.expose('last24Hours', { type: ProviderQualityFigures }),
  }),
});

const ProviderHealth = builder.objectRef<ReturnType<import('../providers/provider-pool.js').ProviderPool['health']>[number]>('ProviderHealth').implement({
  description: "A provider as this Herald instance sees it: circuit, limits, and outcomes over the last `windowSeconds`.",
  fields: (t) => ({
    name: t.exposeString('name'),
    state: t.expose('state', { type: ProviderStateEnum }),
    circuit: t.expose('circuit', { type: CircuitStateEnum }),
    templateOnly: t.exposeBoolean('templateOnly', { description: 'Sends only templates mapped with setTemplateProviderMapping.' }),
    submissions: t.exposeInt('submissions', { description: 'Submissions in the window.' }),
    failures: t.exposeInt('failures', { description: 'Submissions the provider did not answer (errors, timeouts, throttling).' }),
    successRate: t.exposeFloat('successRate', { nullable: true, description: 'Answered / submissions; null without submissions.' }),
    latencyP50Ms: t.exposeFloat('latencyP50Ms', { nullable: true }),
    latencyP95Ms: t.exposeFloat('latencyP95Ms', { nullable: true }),
    latencyP99Ms: t.exposeFloat('latencyP99Ms', { nullable: true }),
    windowSeconds: t.exposeInt('windowSeconds'),
    inFlight: t.exposeInt('inFlight', { description: 'Submissions awaiting an answer now.' }),
    ratePerSecond: t.exposeFloat('ratePerSecond', { nullable: true, description: 'Throughput limit (SMS_ROUTES), if any.' }),
    window: t.exposeInt('window', { nullable: true, description: 'In-flight limit (SMS_ROUTES), if any.' }),
    lastErrorCode: t.exposeString('lastErrorCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastErrorAt: t.expose('lastErrorAt', { type: 'DateTime', nullable: true }),
    quality: t.field({
      type: [ProviderQuality],
      description:
        'Measured quality per destination country, shared by every Herald process and instance on this database (not only this one), ' +
        'fresh to within a few seconds. Without `country`: one entry per country with outcomes in the last 24 hours, by country code, ' +
        'and no all-countries total (add the counts; rates do not add). With `country` (ISO alpha-2): exactly one entry, zeros and nulls ' +
        'without data. A malformed code is an error with code VALIDATION_FAILED.',
      args: { country: t.arg.string({ required: false }) },
      resolve: async (provider, args, ctx) => unwrap(selectQuality(await ctx.store.providerQuality.read(), provider.name, args.country)),
    }),
  }),
});

builder.queryField('providers', (t) =>
  t.field({
    type: [ProviderHealth],
    description: 'The configured providers in default routing order, with their health as seen by the process of this instance that dispatches.',
    resolve: (_root, _args, ctx) => ctx.providerHealth(),
  }),
);

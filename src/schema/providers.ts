// providers: each configured provider's circuit, limits and recent outcomes (this instance's view).
import { builder } from './builder.js';

const ProviderStateEnum = builder.enumType('ProviderState', {
  description: 'UP: circuit closed. DEGRADED: half-open, probing after failures. DOWN: circuit open, no traffic sent.',
  values: ['UP', 'DEGRADED', 'DOWN'] as const,
});
const CircuitStateEnum = builder.enumType('CircuitState', { values: ['CLOSED', 'OPEN', 'HALF_OPEN'] as const });

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
  }),
});

builder.queryField('providers', (t) =>
  t.field({
    type: [ProviderHealth],
    description: 'The configured providers in default routing order, with their health as seen by the process of this instance that dispatches.',
    resolve: (_root, _args, ctx) => ctx.providerHealth(),
  }),
);

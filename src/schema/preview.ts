import { analyzeBody, describeBodyWarnings } from '../domain/segments.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { renderTemplate } from '../domain/templates.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { estimateCosts, type CostEstimate } from '../domain/prices.js';
import { routeOf, type RoutableMessage } from '../providers/routing.js';
import type { Context } from './context.js';
import { decodeId } from './global-id.js';
import { builder } from './builder.js';
import { EncodingEnum } from './messages.js';

interface Preview {
  body: string;
  encoding: 'GSM7' | 'UCS2';
  segments: number;
  characters: number;
  nonGsmCharacters: string[];
  sensitiveWords: string[];
  warnings: string[];
  costs: (CostEstimate & Quality)[];
}

interface Quality {
  deliveryRate: number | null;
  deliveryP95Ms: number | null;
  samples: number;
}

const CostEstimateRef = builder.objectRef<CostEstimate & Quality>('CostEstimate').implement({
  description: "What one provider would charge for the message, from the account's prices. Unknown (no price for the destination): null, never 0.",
  fields: (t) => ({
    provider: t.exposeString('provider'),
    segments: t.exposeInt('segments'),
    pricePerSegment: t.exposeString('pricePerSegment', { nullable: true, description: 'Exact decimal ("0.0079").' }),
    currency: t.exposeString('currency', { nullable: true, description: 'ISO 4217.' }),
    estimatedCost: t.exposeString('estimatedCost', { nullable: true, description: 'segments × pricePerSegment, exact ("0.0158").' }),
    deliveryRate: t.exposeFloat('deliveryRate', {
      nullable: true,
      description: "Measured in the destination's country over the last hour (the last 24 h when the hour had no outcome); null without data.",
    }),
    deliveryP95Ms: t.exposeFloat('deliveryP95Ms', { nullable: true, description: 'p95 time from SENT to DELIVERED, same window.' }),
    samples: t.exposeInt('samples', { description: 'Outcomes those figures rest on.' }),
  }),
});

const MessagePreview = builder.objectRef<Preview>('MessagePreview').implement({
  description: 'What a message would cost and look like, without sending it.',
  fields: (t) => ({
    body: t.exposeString('body'),
    encoding: t.field({ type: EncodingEnum, resolve: (p) => p.encoding }),
    segments: t.exposeInt('segments'),
    characters: t.exposeInt('characters'),
    nonGsmCharacters: t.exposeStringList('nonGsmCharacters', { description: 'The characters that force UCS-2.' }),
    sensitiveWords: t.exposeStringList('sensitiveWords'),
    warnings: t.exposeStringList('warnings'),
    costs: t.field({
      type: [CostEstimateRef],
      description:
        'With `to`: an estimate per provider that routing (SMS_ROUTES) may use for it, in failover order, priced by the account\'s price list now. ' +
        'Without `to`: empty.',
      resolve: (p) => p.costs,
    }),
  }),
});

const PreviewInput = builder.inputType('PreviewInput', {
  fields: (t) => ({
    body: t.string({ required: false }),
    templateId: t.id({ required: false }),
    variables: t.field({ type: 'JSON', required: false }),
    to: t.string({ required: false }),
  }),
});

builder.queryField('previewMessage', (t) =>
  t.field({
    type: MessagePreview,
    args: { input: t.arg({ type: PreviewInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      let body = input.body ?? '';
      const warnings: string[] = [];
      const routable: Omit<RoutableMessage, 'to'> = {};
      if (input.templateId) {
        const id = decodeId(input.templateId, 'Template', null);
        const template = id ? await ctx.prisma.template.findFirst({ where: { id, accountId: ctx.auth.accountId, deletedAt: null }, include: { currentVersion: true } }) : null;
        if (!template?.currentVersion) throw new NotFoundError('template');
        const version = template.currentVersion;
        // Routes may match on the template's name and category.
        Object.assign(routable, { templateName: template.name, category: template.category });
        if (version.status !== 'APPROVED') warnings.push(`the template is ${version.status}: sending would be refused until it is APPROVED`);
        const rendered = renderTemplate(version.body, version.variables, input.variables ?? {});
        if (typeof rendered === 'string') body = rendered;
        else {
          // Show the template with its placeholders, and say what is wrong with the variables.
          body = version.body;
          warnings.push(rendered.message);
        }
      }
      // Segment counting walks grapheme clusters in quadratic time: 40 000 CJK characters took
      // a minute (found by the chaos suite's fuzzing). A body sending would refuse anyway is
      // not analysed.
      const length = [...body].length;
      if (length > ctx.config.maxBodyLength) {
        throw new ValidationError([{ path: [], message: `the body has ${length} characters, over the ${ctx.config.maxBodyLength}-character limit: sending would be refused` }]);
      }
      const analysis = analyzeBody(body);
      warnings.push(...describeBodyWarnings(analysis));
      const sensitiveWords = await ctx.compliance.screen(ctx.auth.accountId, body);
      if (sensitiveWords.length) warnings.push(`contains words that are not allowed: ${sensitiveWords.join(', ')}: sending would be refused`);
      if (body.trim() === '') warnings.push('the body is empty: sending would be refused');
      const costs = input.to ? await costsFor(ctx, { ...routable, to: input.to }, analysis.segments, warnings) : [];
      return { body, ...analysis, sensitiveWords, warnings, costs };
    },
  }),
);

/** The estimate of each provider routing would try for the message, in that order. */
async function costsFor(ctx: Context, message: RoutableMessage, segments: number, warnings: string[]): Promise<(CostEstimate & Quality)[]> {
  const phone = normalizePhoneNumber(message.to, ctx.config.defaultCountry as Parameters<typeof normalizePhoneNumber>[1]);
  if (!phone.ok) {
    warnings.push(`${phone.error.message}: no cost estimate, and sending would be refused`);
    return [];
  }
  // The route's list in its order: weights only pick which provider goes first at random per message.
  const route = routeOf(ctx.routing, { ...message, to: phone.e164 });
  const providers = route.providers;
  const [estimates, facts] = await Promise.all([
    estimateCosts(await ctx.store.prices.listForAccount(ctx.auth.accountId), providers, phone.e164, segments, new Date()),
    ctx.routeFacts({ accountId: ctx.auth.accountId, to: phone.e164, segments }, providers, route.settings.minSamples),
  ]);
  // Beside each price, the provider's measured quality in the destination's country (what LEAST_COST and FASTEST weigh).
  return estimates.map((e, i) => ({ ...e, deliveryRate: facts[i]!.deliveryRate, deliveryP95Ms: facts[i]!.p95Ms, samples: facts[i]!.samples }));
}

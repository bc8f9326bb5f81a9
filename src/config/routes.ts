// SMS_ROUTES: which providers may carry a message and in what order, their limits and circuit
// settings. Parsed and validated with the rest of the configuration at start (config.ts); the
// choice itself is made per message by providers/routing.ts.
//
// Configured in one place, SMS_ROUTES (JSON), validated at start:
//   {
//     "routes": [
//       { "name": "china", "match": { "countries": ["CN"] }, "providers": ["aliyun", "tencent"],
//         "weights": { "aliyun": 3, "tencent": 1 } },
//       { "match": { "categories": ["MARKETING"] }, "providers": ["twilio"] },
//       { "providers": ["twilio", "simulator"] }
//     ],
//     "providers": { "twilio": { "ratePerSecond": 50, "window": 20 } },
//     "circuit": { "failureThreshold": 5, "openMs": 5000 }
//   }
// The first route whose `match` fits wins (every given criterion must fit; a list fits when
// any of its values does; no `match` fits everything). Without SMS_ROUTES, or when no route
// fits, the order is SMS_PROVIDERS.
import { z } from 'zod';

/** How a route picks its first provider (domain/routing-strategy.ts decides). */
export const ROUTING_STRATEGIES = ['PRIORITY', 'WEIGHTED', 'LEAST_COST', 'FASTEST'] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

export interface StrategySettings {
  strategy: RoutingStrategy;
  weights?: Record<string, number>;
  floors?: { deliveryRate?: number; p95Ms?: number };
  /** Share of messages (0–1) sent first to another provider than the choice. */
  exploration: number;
  /** Measurements below this many samples do not judge a provider. */
  minSamples: number;
}

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'provider names are lower-case words');

const routeSchema = z
  .object({
    name: z.string().min(1).optional(),
    match: z
      .object({
        /** ISO 3166 alpha-2 of the recipient's number (`CN`, `US`). */
        countries: z.array(z.string().regex(/^[A-Z]{2}$/, 'countries are ISO 3166 alpha-2 codes like CN')).min(1).optional(),
        /** E.164 prefixes of the recipient (`+861`, `+44`). */
        prefixes: z.array(z.string().regex(/^\+\d{1,15}$/, 'prefixes start with + and digits')).min(1).optional(),
        /** Herald template names. */
        templates: z.array(z.string().min(1)).min(1).optional(),
        categories: z.array(z.enum(['OTP', 'NOTIFICATION', 'MARKETING'])).min(1).optional(),
      })
      .strict()
      .optional(),
    /** Failover order. */
    providers: z.array(name).min(1),
    /**
     * Traffic split for the first try: a provider with a weight is picked first in proportion
     * to it; the others follow in list order as fallbacks. Unweighted providers are fallbacks only.
     */
    weights: z.record(name, z.number().positive()).optional(),
    /**
     * How the first provider is chosen (providers/routing-strategy.ts). Default: WEIGHTED when
     * `weights` are given, else PRIORITY (the list order).
     */
    strategy: z.enum(ROUTING_STRATEGIES).optional(),
    /** What LEAST_COST and FASTEST require of a provider's measured quality at the destination. */
    floors: z
      .object({
        /** Delivered share, 0–1 (0.95 = 95 %). */
        deliveryRate: z.number().min(0).max(1).optional(),
        /** p95 time from SENT to DELIVERED, milliseconds. */
        p95Ms: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    /** Share of messages (0–0.5) sent first to a provider the strategy did not choose, to keep measuring it. Default 0.05. */
    exploration: z.number().min(0).max(0.5).optional(),
    /** Messages measured in the window before a provider is judged. Default 20. */
    minSamples: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((route, ctx) => {
    for (const weighted of Object.keys(route.weights ?? {})) {
      if (!route.providers.includes(weighted)) ctx.addIssue({ code: 'custom', message: `weights name ${weighted}, which is not in this route's providers` });
    }
    if (new Set(route.providers).size !== route.providers.length) ctx.addIssue({ code: 'custom', message: 'a provider is listed twice' });
    if (route.strategy === 'WEIGHTED' && !route.weights) ctx.addIssue({ code: 'custom', message: 'strategy WEIGHTED needs weights' });
    if (route.weights && route.strategy && route.strategy !== 'WEIGHTED') ctx.addIssue({ code: 'custom', message: `weights apply to strategy WEIGHTED only, not ${route.strategy}` });
    if (route.floors && route.strategy !== 'LEAST_COST' && route.strategy !== 'FASTEST') {
      ctx.addIssue({ code: 'custom', message: 'floors apply to strategies LEAST_COST and FASTEST only' });
    }
  });

const limitsSchema = z
  .object({
    /** Submissions per second to this provider, across every Herald instance sharing Redis. */
    ratePerSecond: z.number().positive().optional(),
    /** Submissions awaiting the provider's answer at once, per instance. */
    window: z.number().int().positive().optional(),
  })
  .strict();

const circuitSchema = z
  .object({
    /** Consecutive failures (errors, timeouts) that open the circuit. */
    failureThreshold: z.number().int().positive().default(5),
    /** How long an open circuit refuses before letting one probe through. */
    openMs: z.number().int().positive().default(5_000),
  })
  .strict();

const configSchema = z
  .object({
    routes: z.array(routeSchema).default([]),
    providers: z.record(name, limitsSchema).default({}),
    circuit: circuitSchema.default({ failureThreshold: 5, openMs: 5_000 }),
  })
  .strict();

export type Route = z.infer<typeof routeSchema>;

/** A route's strategy settings with their defaults filled in. */
export function strategyOf(route: Route): StrategySettings {
  return {
    strategy: route.strategy ?? (route.weights ? 'WEIGHTED' : 'PRIORITY'),
    weights: route.weights,
    floors: route.floors,
    exploration: route.exploration ?? DEFAULT_EXPLORATION,
    minSamples: route.minSamples ?? DEFAULT_MIN_SAMPLES,
  };
}
const DEFAULT_EXPLORATION = 0.05;
export const DEFAULT_MIN_SAMPLES = 20;
export type ProviderLimits = z.infer<typeof limitsSchema>;
export type CircuitSettings = z.infer<typeof circuitSchema>;
export interface RoutingConfig {
  routes: Route[];
  limits: Record<string, ProviderLimits>;
  circuit: CircuitSettings;
  /** SMS_PROVIDERS: the default order. */
  defaultOrder: string[];
}

export class RoutingConfigError extends Error {
  override name = 'RoutingConfigError';
}

/** What is wrong with a routing document: providers it names that are not defined, and other issues by path. */
export interface RoutingDocumentProblems {
  unknownProviders: string[];
  issues: { path: string[]; message: string }[];
}

/**
 * Checks a routing document (SMS_ROUTES' JSON, parsed, or one set at run time) against the
 * defined providers; `order` is the default order without a route (the enabled providers).
 */
export function checkRoutingDocument(raw: unknown, defined: readonly string[], order: readonly string[] = defined): { ok: true; config: RoutingConfig } | ({ ok: false } & RoutingDocumentProblems) {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) return { ok: false, unknownProviders: [], issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) };
  const { routes, providers: limits, circuit } = parsed.data;
  const named = [...routes.flatMap((r) => r.providers), ...Object.keys(limits)];
  const unknownProviders = [...new Set(named.filter((n) => !defined.includes(n)))];
  if (unknownProviders.length > 0) return { ok: false, unknownProviders, issues: [] };
  return { ok: true, config: { routes, limits, circuit, defaultOrder: [...order] } };
}

/** Providers a routing document names (in a route or in its limits). */
export function providersNamedBy(config: RoutingConfig): Set<string> {
  return new Set([...config.routes.flatMap((r) => r.providers), ...Object.keys(config.limits)]);
}

/**
 * Reads SMS_ROUTES against the configured providers. Throws a RoutingConfigError naming every
 * problem (bad JSON, unknown fields, a provider that SMS_PROVIDERS does not list).
 */
export function parseRoutingConfig(json: string | undefined, providers: readonly string[]): RoutingConfig {
  let raw: unknown = {};
  if (json !== undefined) {
    try {
      raw = JSON.parse(json);
    } catch (error) {
      throw new RoutingConfigError(`SMS_ROUTES is not valid JSON: ${(error as Error).message}`);
    }
  }
  const checked = checkRoutingDocument(raw, providers);
  if (checked.ok) return checked.config;
  if (checked.unknownProviders.length > 0) {
    throw new RoutingConfigError(`SMS_ROUTES names ${checked.unknownProviders.join(', ')}, not in SMS_PROVIDERS (${providers.join(', ')}); add them there with their settings`);
  }
  const lines = checked.issues.map((i) => `  SMS_ROUTES.${i.path.join('.')}: ${i.message}`);
  throw new RoutingConfigError(`invalid SMS_ROUTES:\n${lines.join('\n')}`);
}

// SIMULATORS: extra simulator providers, each with a behaviour that can be bad (docs/providers.md,
// "Several simulators"). The schema lives here, in the settings layer, so that a bad SIMULATORS
// stops the start with the other configuration errors (config.ts); what a behaviour does to a
// submission is decided in src/providers/simulator/behaviour.ts.
//
//   SIMULATORS='{"cheap":{"default":{"deliveryRate":0.99},"countries":{"GB":{"reportDelayMs":2000}}},
//                "backup":{}}'
//   SMS_PROVIDERS=simulator,cheap,backup
//
// Each name becomes a provider of its own (usable in SMS_PROVIDERS and SMS_ROUTES), reporting
// through /webhooks/<name>/status.
import { z } from 'zod';

/** What a simulator does with submissions to one destination (every field optional). */
export const destinationBehaviourSchema = z
  .object({
    /** Share (0–1) of accepted messages reported DELIVERED; the rest UNDELIVERED. Default 1. */
    deliveryRate: z.number().min(0).max(1).optional(),
    /** Delay between acceptance and the report, ms. Default SIMULATOR_DELAY_MS. */
    reportDelayMs: z.number().int().min(0).max(3_600_000).optional(),
    /** Share (0–1) of accepted messages whose report is never pushed. Default 0. */
    missingReportRate: z.number().min(0).max(1).optional(),
    /** Share (0–1) of submissions refused with a retryable error. Default 0. */
    submitErrorRate: z.number().min(0).max(1).optional(),
    /** Every submission refused with a retryable error, as a provider that is down. Default false. */
    outage: z.boolean().optional(),
  })
  .strict();

/** A simulator's behaviour: `default` for every destination, `countries` overriding it field by field. */
export const simulatorBehaviourSchema = z
  .object({
    default: destinationBehaviourSchema.optional(),
    /** By ISO 3166 alpha-2 code of the recipient's number. */
    countries: z.record(z.string().regex(/^[A-Z]{2}$/, 'countries are ISO 3166 alpha-2 codes like GB'), destinationBehaviourSchema).optional(),
  })
  .strict();

export type DestinationBehaviour = z.infer<typeof destinationBehaviourSchema>;
export type SimulatorBehaviourSettings = z.infer<typeof simulatorBehaviourSchema>;

/** Names taken by the built-in providers (a simulator cannot shadow one). */
const BUILT_IN = ['simulator', 'twilio', 'aliyun', 'tencent', 'smpp'];

const simulatorsSchema = z.record(
  z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'simulator names are lower-case words (a-z, 0-9, -)')
    .refine((name) => !BUILT_IN.includes(name), 'the name of a built-in provider'),
  simulatorBehaviourSchema,
);

export class SimulatorsConfigError extends Error {
  override name = 'SimulatorsConfigError';
}

/** Reads SIMULATORS (JSON); throws a SimulatorsConfigError naming every problem, one per line. */
export function parseSimulators(json: string | undefined): Readonly<Record<string, SimulatorBehaviourSettings>> {
  if (json === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new SimulatorsConfigError(`  SIMULATORS: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = simulatorsSchema.safeParse(raw);
  if (!parsed.success) {
    // A bad name is reported by zod as "Invalid key in record"; the key's own issue says why.
    const why = (i: z.core.$ZodIssue) => (i.code === 'invalid_key' ? i.issues.map((k) => k.message).join('; ') : i.message);
    throw new SimulatorsConfigError(parsed.error.issues.map((i) => `  SIMULATORS${i.path.map((p) => `.${String(p)}`).join('')}: ${why(i)}`).join('\n'));
  }
  return Object.freeze(parsed.data);
}

// What a simulator does with one submission, from its behaviour (SIMULATORS, or setBehaviour()
// at run time), the recipient's country and a random source. Pure: the schema of a behaviour is
// in src/config/simulators.ts (a bad SIMULATORS must stop the start with the other settings
// errors, and the settings layer cannot import this one); run-time settings validate with the
// same schema, `simulatorBehaviourSchema`.
//
// The simulator's magic number endings (…0000, …0001, …0002) are decided before any of this
// (simulator.ts): a behaviour never changes what a test number does.
import type { DestinationBehaviour, SimulatorBehaviourSettings } from '../../config/simulators.js';

export type { DestinationBehaviour, SimulatorBehaviourSettings };

/** A destination's behaviour with every field filled in. */
export type ResolvedBehaviour = Required<DestinationBehaviour>;

/** What a submission gets. */
export type SubmissionOutcome =
  | { kind: 'refused'; reason: 'outage' | 'submit-error' }
  | {
      kind: 'accepted';
      /** The final report it will get. */
      report: 'delivered' | 'undelivered';
      reportDelayMs: number;
      /** True: the report is never pushed (a status query still knows the outcome). */
      reportMissing: boolean;
    };

/** `default`, then the country's fields over it, then `fallback` for what neither sets. */
export function behaviourFor(settings: SimulatorBehaviourSettings, country: string | undefined, fallback: { reportDelayMs: number }): ResolvedBehaviour {
  const own = country ? settings.countries?.[country] : undefined;
  const pick = <K extends keyof DestinationBehaviour>(key: K): DestinationBehaviour[K] => own?.[key] ?? settings.default?.[key];
  return {
    deliveryRate: pick('deliveryRate') ?? 1,
    reportDelayMs: pick('reportDelayMs') ?? fallback.reportDelayMs,
    missingReportRate: pick('missingReportRate') ?? 0,
    submitErrorRate: pick('submitErrorRate') ?? 0,
    outage: pick('outage') ?? false,
  };
}

/** Whether any country has a behaviour of its own (else the recipient's country need not be looked up). */
export function hasCountryOverrides(settings: SimulatorBehaviourSettings): boolean {
  return Object.keys(settings.countries ?? {}).length > 0;
}

/**
 * The fate of one submission. `random()` is drawn once per rate in a fixed order (submission
 * error, delivery, missing report), so a seeded source gives the same outcomes run after run.
 * A rate of 0 never happens and a rate of 1 always does (random() is in [0, 1)).
 */
export function decideOutcome(behaviour: ResolvedBehaviour, random: () => number): SubmissionOutcome {
  if (behaviour.outage) return { kind: 'refused', reason: 'outage' };
  if (random() < behaviour.submitErrorRate) return { kind: 'refused', reason: 'submit-error' };
  const report = random() < behaviour.deliveryRate ? 'delivered' : 'undelivered';
  return { kind: 'accepted', report, reportDelayMs: behaviour.reportDelayMs, reportMissing: random() < behaviour.missingReportRate };
}

// The loop that keeps messageStats' rollup (store/message-stats-rollup.ts, where the rules are):
// each pass marks the days changed since the last one, then rolls up dirty days and days newly
// over, a piece at a time, for up to PASS_BUDGET_MS; a pass that stopped for its budget asks for
// the next at once. Pieces grow or shrink so that one takes about PIECE_TARGET_MS: the rollup lock
// and, on the embedded database, its only connection are never held long.
import { createBackgroundLoop, type BackgroundLoop } from '../concurrency/background-loop.js';
import type { Logger } from '../logging/logger.js';
import type { MessageStatsRollup, RollStep } from '../store/message-stats-rollup.js';

const PASS_BUDGET_MS = 2_000;
const PIECE_TARGET_MS = 300;
/** A piece spans at most this many days (the first catch-up of a year: 12 pieces or more). */
export const MAX_PIECE_DAYS = 31;

export interface RollupPass {
  /** One pass; `more` when it stopped with work left. `locked` when another instance did the work. */
  (): Promise<{ more: boolean; locked: boolean; steps: RollStep[] }>;
}

/** A pass over the rollup, remembering between passes how many days a piece may span. */
export function createRollupPass(rollup: Pick<MessageStatsRollup, 'markChanged' | 'rollNext'>, now: () => number = () => performance.now()): RollupPass {
  let pieceDays = 1;
  return async () => {
    const steps: RollStep[] = [];
    if (!(await rollup.markChanged())) return { more: false, locked: true, steps };
    const started = now();
    while (now() - started < PASS_BUDGET_MS) {
      const before = now();
      const step = await rollup.rollNext(pieceDays);
      steps.push(step);
      if (step.kind === 'locked') return { more: false, locked: true, steps };
      if (step.kind === 'idle') return { more: false, locked: false, steps };
      const took = Math.max(1, now() - before);
      if (step.days >= pieceDays) pieceDays = Math.max(1, Math.min(MAX_PIECE_DAYS, Math.round((pieceDays * PIECE_TARGET_MS) / took)));
    }
    return { more: true, locked: false, steps };
  };
}

export function createStatsRollupLoop(options: { rollup: MessageStatsRollup; logger: Logger; pollMs: number }): BackgroundLoop {
  const pass = createRollupPass(options.rollup);
  return createBackgroundLoop({
    name: 'stats rollup',
    pollMs: options.pollMs,
    logger: options.logger,
    pass: async () => {
      const result = await pass();
      const rolled = result.steps.filter((s) => s.kind === 'rolled');
      if (rolled.length) options.logger.debug({ pieces: rolled.length, days: rolled.reduce((n, s) => n + s.days, 0) }, 'stats rollup pass');
      return result.more;
    },
  });
}

// The fast subset of the fault and abuse suite (`npm run test:chaos -- --quick`), inside `npm test`:
// every scenario marked `fast`, with small counts; each row it reports must hold.
import { describe, expect, it } from 'vitest';
import { loadScenarios, type ChaosRow } from '../../chaos/harness.js';
import { DEFAULT_POSTGRES_ADMIN_URL } from '../../bench/support.js';

const scenarios = await loadScenarios((s) => s.fast);

describe('chaos suite, fast subset', () => {
  it('has fast scenarios to run', () => {
    expect(scenarios.length).toBeGreaterThan(0);
  });
  for (const scenario of scenarios) {
    it(`${scenario.name}: every figure holds`, { timeout: 300_000 }, async () => {
      const rows: ChaosRow[] = await scenario.run({
        quick: true,
        postgresAdminUrl: process.env.HERALD_TEST_POSTGRES_URL ?? DEFAULT_POSTGRES_ADMIN_URL,
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        log: () => {},
      });
      console.log(rows.map((r) => `${r.scenario} / ${r.figure}: ${r.value} (expected ${r.expected})${r.note ? ` — ${r.note}` : ''}`).join('\n'));
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => !r.ok)).toEqual([]);
    });
  }
});

// `npm run test:chaos [-- --quick] [--only crash,fuzz]`: runs every scenario in chaos/scenarios
// (file-name order; --quick only the fast ones, with smaller counts), prints one table, writes
// chaos/results/latest.md and exits 1 when any row does not hold.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_POSTGRES_ADMIN_URL } from '../bench/support.js';
import { formatChaosTable, loadScenarios, type ChaosRow } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    postgres: { type: 'string', default: process.env.CHAOS_POSTGRES_URL ?? DEFAULT_POSTGRES_ADMIN_URL },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const only = values.only?.split(',').map((s) => s.trim());

const scenarios = await loadScenarios((s) => (only ? only.includes(s.name) : !values.quick || s.fast));
const started = Date.now();
const rows: ChaosRow[] = [];
for (const scenario of scenarios) {
  const t0 = Date.now();
  console.error(`▶ ${scenario.name}`);
  try {
    rows.push(...(await scenario.run({ quick: values.quick, postgresAdminUrl: values.postgres, redisUrl: values.redis, log: (line) => console.error(`  ${line}`) })));
  } catch (error) {
    rows.push({ scenario: scenario.name, figure: '(scenario failed)', value: '—', expected: 'runs to the end', ok: false, note: (error as Error).message.split('\n')[0] });
    console.error(`  ${scenario.name} failed:`, error);
  }
  console.error(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
const table = formatChaosTable(rows);
console.log(table);
const failed = rows.filter((r) => !r.ok).length;
console.log(`\n${values.quick ? 'quick' : 'full'} run, ${((Date.now() - started) / 1000).toFixed(0)} s; ${failed === 0 ? 'every row holds' : `${failed} row(s) do NOT hold`}.`);
await mkdir(path.join(here, 'results'), { recursive: true });
await writeFile(path.join(here, 'results', 'latest.md'), `# Herald chaos suite\n\n- date: ${new Date().toISOString()}\n- mode: ${values.quick ? 'quick' : 'full'}\n\n\`\`\`\n${table}\n\`\`\`\n`);
process.exit(failed === 0 ? 0 : 1);

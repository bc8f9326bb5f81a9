// `npm run bench [-- --quick] [--only intake,bulk]`: runs every scenario in bench/scenarios (in
// file-name order), each measuring Herald and its baseline in the same run, prints one table
// and writes bench/results/latest.json and latest.md. A scenario that cannot run (a service
// down, a peer that cannot be installed) says so in its row instead of failing the suite.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatMarkdown, formatTable, ratioOf, type BenchRow, type Scenario } from './harness.js';
import { DEFAULT_POSTGRES_ADMIN_URL } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    postgres: { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? DEFAULT_POSTGRES_ADMIN_URL },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const only = values.only?.split(',').map((s) => s.trim());

const files = (await readdir(path.join(here, 'scenarios'))).filter((f) => /^\d+-.*\.ts$/.test(f)).sort();
const scenarios: Scenario[] = [];
for (const file of files) {
  const module = (await import(pathToFileURL(path.join(here, 'scenarios', file)).href)) as { scenario: Scenario };
  if (!only || only.includes(module.scenario.name)) scenarios.push(module.scenario);
}

const started = Date.now();
const rows: BenchRow[] = [];
for (const scenario of scenarios) {
  const t0 = Date.now();
  console.error(`▶ ${scenario.name}`);
  try {
    rows.push(...(await scenario.run({ quick: values.quick, postgresAdminUrl: values.postgres, redisUrl: values.redis, log: (line) => console.error(`  ${line}`) })));
  } catch (error) {
    rows.push({ scenario: scenario.name, metric: '(failed)', herald: null, baseline: null, target: '—', met: null, note: (error as Error).message.split('\n')[0] });
    console.error(`  ${scenario.name} failed:`, error);
  }
  console.error(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

// The peer has no Herald run of its own: its rows sit beside Herald's figures from the
// end-to-end and intake scenarios of this same run.
fillPeerRow('end-to-end msg/s', 'end-to-end', 'msg/s');
fillPeerRow('sendsms intake req/s (DLR on)', 'intake', 'sendMessage req/s');
function fillPeerRow(peerMetric: string, scenario: string, metric: string): void {
  const peer = rows.find((r) => r.scenario === 'peer' && r.metric === peerMetric);
  const ours = rows.find((r) => r.scenario === scenario && r.metric === metric);
  if (!peer || !ours) return;
  peer.herald = ours.herald;
  peer.ratio = ratioOf(peer.herald, peer.baseline, 'more');
}

const meta = {
  date: new Date().toISOString(),
  mode: values.quick ? 'quick' : 'full',
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg()[0]!.toFixed(1)} at the end`,
  node: process.version,
  duration: `${((Date.now() - started) / 1000).toFixed(0)} s`,
};
console.log(formatTable(rows));
console.log(`\n${meta.mode} run, ${meta.duration}; ratio > 1 means Herald does better than the baseline.`);
await mkdir(path.join(here, 'results'), { recursive: true });
await writeFile(path.join(here, 'results', 'latest.json'), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
await writeFile(path.join(here, 'results', 'latest.md'), formatMarkdown(rows, meta));
console.log('written: bench/results/latest.json, bench/results/latest.md');
process.exit(0);

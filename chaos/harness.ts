// The fault and abuse suite's shared shape: each scenario (chaos/scenarios/NN-name.ts) breaks
// something real (kills a process, restarts PostgreSQL or Redis, takes a provider down, sends
// forged callbacks or generated queries) and returns rows of figures, each with what was
// expected and whether it held. `npm run test:chaos` prints them as one table and fails when a
// row does not hold; the `fast` scenarios also run (with `quick`) inside `npm test`.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ChaosOptions {
  /** Smaller counts: the fast subset that runs inside `npm test`. */
  quick: boolean;
  /** PostgreSQL server to create throwaway databases on. */
  postgresAdminUrl: string;
  redisUrl: string;
  log: (line: string) => void;
}

export interface ChaosRow {
  scenario: string;
  /** What is counted: "accepted messages lost", "forged callbacks rejected". */
  figure: string;
  value: number | string;
  /** What it must be, in words: "0", "100 %", "≤ 2 s". */
  expected: string;
  ok: boolean;
  note?: string;
}

export interface ChaosScenario {
  name: string;
  /** Safe to run beside other tests (restarts no shared service) and quick enough for `npm test`. */
  fast: boolean;
  run(options: ChaosOptions): Promise<ChaosRow[]>;
}

export function formatChaosTable(rows: ChaosRow[]): string {
  const header = ['scenario', 'figure', 'value', 'expected', 'ok'];
  const lines = rows.map((r) => [r.scenario, r.figure, String(r.value), r.expected, r.ok ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.scenario} / ${r.figure}: ${r.note}`);
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** The scenarios of chaos/scenarios/NN-*.ts, in file-name order, that pass `filter`. */
export async function loadScenarios(filter: (s: ChaosScenario) => boolean = () => true): Promise<ChaosScenario[]> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios');
  const files = (await readdir(dir)).filter((f) => /^\d+-.*\.ts$/.test(f)).sort();
  const scenarios: ChaosScenario[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(path.join(dir, file)).href)) as { scenario: ChaosScenario };
    if (filter(module.scenario)) scenarios.push(module.scenario);
  }
  return scenarios;
}

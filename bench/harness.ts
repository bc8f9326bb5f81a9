// The benchmark suite's shared shape: each scenario (bench/scenarios/NN-name.ts) measures
// Herald and its baseline in the same run and returns rows; `npm run bench` prints them as one
// table and writes bench/results/latest.{json,md}. Ratios, not absolute times, are the point:
// absolute figures on a shared 2-core machine are noise, same-run ratios are not.

export interface BenchOptions {
  /** `--quick`: smaller counts, the whole suite well under 2 minutes. */
  quick: boolean;
  /** PostgreSQL server to create throwaway databases on. */
  postgresAdminUrl: string;
  redisUrl: string;
  log: (line: string) => void;
}

export interface BenchRow {
  scenario: string;
  /** What is measured, with its unit: "req/s", "p99 ms", "msg/s", "RSS MB". */
  metric: string;
  herald: number | null;
  /** The same measure of the baseline in this run; null when the row has none. */
  baseline: number | null;
  baselineName?: string;
  /** How Herald compares: herald / baseline for "more is better", baseline / herald for "less is better". */
  ratio?: number | null;
  /** The target in words ("≥ 2 500 req/s", "≥ 0.3× baseline"). */
  target: string;
  /** Whether the target is met; null when it cannot be judged (row skipped, no data). */
  met: boolean | null;
  note?: string;
}

export interface Scenario {
  name: string;
  run(options: BenchOptions): Promise<BenchRow[]>;
}

/** herald/baseline when more is better, baseline/herald when less is better. */
export function ratioOf(herald: number | null, baseline: number | null, better: 'more' | 'less'): number | null {
  if (herald === null || baseline === null || herald === 0 || baseline === 0) return null;
  return better === 'more' ? herald / baseline : baseline / herald;
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

const fmt = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function formatTable(rows: BenchRow[]): string {
  const header = ['scenario', 'metric', 'Herald', 'baseline', 'ratio', 'target', 'met'];
  const lines = rows.map((r) => [
    r.scenario,
    r.metric,
    fmt(r.herald, r.herald !== null && Math.abs(r.herald) < 10 ? 2 : 0),
    r.baseline === null ? '—' : `${fmt(r.baseline, Math.abs(r.baseline) < 10 ? 2 : 0)}${r.baselineName ? ` (${r.baselineName})` : ''}`,
    r.ratio === null || r.ratio === undefined ? '—' : `${fmt(r.ratio, 2)}×`,
    r.target,
    r.met === null ? 'n/a' : r.met ? 'yes' : 'NO',
  ]);
  return alignColumns(header, lines);
}

/** A plain-text table: each column as wide as its widest cell, a rule under the header. */
export function alignColumns(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}

export function formatMarkdown(rows: BenchRow[], meta: Record<string, string>): string {
  const head = '| scenario | metric | Herald | baseline | ratio | target | met | note |\n|---|---|---|---|---|---|---|---|';
  const body = rows
    .map((r) =>
      `| ${r.scenario} | ${r.metric} | ${fmt(r.herald, 2)} | ${r.baseline === null ? '—' : `${fmt(r.baseline, 2)}${r.baselineName ? ` (${r.baselineName})` : ''}`} | ${
        r.ratio === null || r.ratio === undefined ? '—' : `${fmt(r.ratio, 2)}×`
      } | ${r.target} | ${r.met === null ? 'n/a' : r.met ? 'yes' : '**no**'} | ${r.note ?? ''} |`,
    )
    .join('\n');
  const about = Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`).join('\n');
  return `# Herald benchmark\n\n${about}\n\n${head}\n${body}\n`;
}

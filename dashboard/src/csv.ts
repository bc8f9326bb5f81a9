// The message log as CSV (RFC 4180: every cell quoted, CRLF line ends), for "Export CSV".
export interface CsvRow {
  id: string; createdAt: string; to: string; status: string; provider: string | null; segments: number;
  template: { name: string } | null; batchId: string | null; body: string;
}

const cell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  // A leading = + - @ would be run as a formula by spreadsheets, so it gets a quote first,
  // except for a plain E.164 number (a number to a spreadsheet, never a formula).
  const guarded = /^[=+\-@]/.test(s) && !/^\+\d{1,15}$/.test(s) ? `'${s}` : s;
  return `"${guarded.replace(/"/g, '""')}"`;
};

export const toCsv = (rows: CsvRow[]): string =>
  [['id', 'created_at', 'to', 'status', 'provider', 'segments', 'template', 'batch_id', 'body'],
    ...rows.map((r) => [r.id, r.createdAt, r.to, r.status, r.provider, r.segments, r.template?.name, r.batchId, r.body])]
    .map((line) => line.map(cell).join(',')).join('\r\n') + '\r\n';

export interface CsvIssue { line: number | null; column: string | null; message: string; text: string | null }

/**
 * A price import's issues (paths ["csv", "<line>", "<column>"], ["csv", "<line>"] or ["csv"]) with
 * the text of the line each names, so the page can show the broken line itself. Lines count from
 * 1, the header included, as the server counts them.
 */
export function csvIssues(csv: string, issues: { message: string; path: string[] }[]): CsvIssue[] {
  const lines = csv.split(/\r\n|\n|\r/);
  return issues.map((issue) => {
    const line = issue.path[0] === 'csv' && issue.path[1] !== undefined && /^\d+$/.test(issue.path[1]) ? Number(issue.path[1]) : null;
    return { line, column: line === null ? null : issue.path[2] ?? null, message: issue.message, text: line === null ? null : lines[line - 1] ?? null };
  });
}

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

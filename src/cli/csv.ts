// CSV input for `herald bulk`: a header row whose first column is `phone` and whose other
// columns are template variable names, then one recipient per row. Read as a stream (never the
// whole file at once); every record carries the line of the file it starts on.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CsvFileError, readCsvRecords } from '../domain/csv-records.js';

export const PHONE_COLUMN = 'phone';

export interface CsvHeader {
  /** The header row as written (trimmed). */
  columns: string[];
  /** The variable names: every column after `phone`. */
  variables: string[];
}

export type RowResult =
  | { ok: true; to: string; variables?: Record<string, string> }
  | { ok: false; code: 'VALIDATION_FAILED'; message: string };

/** Checks the header row: `phone` first, then distinct, non-empty variable names. */
export function parseHeader(fields: string[]): CsvHeader {
  const columns = fields.map((f) => f.trim());
  if (columns.length === 0 || columns[0].toLowerCase() !== PHONE_COLUMN) {
    throw new CsvFileError(
      `the first row must be a header whose first column is "${PHONE_COLUMN}" (then one column per template variable); found ${JSON.stringify(fields.join(','))}`,
      1,
    );
  }
  const variables = columns.slice(1);
  const blank = variables.findIndex((name) => !name);
  if (blank >= 0) throw new CsvFileError(`header column ${blank + 2} has no name (every column after "${PHONE_COLUMN}" names a template variable)`, 1);
  const seen = new Set<string>();
  for (const name of variables) {
    if (name.toLowerCase() === PHONE_COLUMN) throw new CsvFileError(`"${PHONE_COLUMN}" appears twice in the header`, 1);
    if (seen.has(name)) throw new CsvFileError(`header column "${name}" appears twice`, 1);
    seen.add(name);
  }
  return { columns, variables };
}

/**
 * One data row as a recipient: `phone` becomes `to` (normalised by the server) and the other
 * columns become `variables` by header name. A row whose field count differs from the header's
 * is refused here with VALIDATION_FAILED (its values cannot be matched to names safely).
 */
export function rowToRecipient(header: CsvHeader, fields: string[]): RowResult {
  if (fields.length !== header.columns.length) {
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      message: `expected ${header.columns.length} ${header.columns.length === 1 ? 'column' : 'columns'} (${header.columns.join(',')}), found ${fields.length}`,
    };
  }
  const to = fields[0].trim();
  if (!to) return { ok: false, code: 'VALIDATION_FAILED', message: `the ${PHONE_COLUMN} column is empty` };
  if (header.variables.length === 0) return { ok: true, to };
  const variables: Record<string, string> = {};
  header.variables.forEach((name, i) => (variables[name] = fields[i + 1]));
  return { ok: true, to, variables };
}

export interface CsvScan {
  header: CsvHeader;
  /** Data rows (records after the header). */
  rows: number;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
}

/**
 * A first streaming pass over a file: checks the header and the quoting everywhere (so a broken
 * file is refused before anything is sent), counts the data rows for the progress bar and
 * hashes the bytes (the default idempotency prefix).
 */
export async function scanCsvFile(path: string): Promise<CsvScan> {
  const hash = createHash('sha256');
  const input = createReadStream(path);
  input.on('data', (chunk) => hash.update(chunk));
  let header: CsvHeader | undefined;
  let rows = 0;
  for await (const record of readCsvRecords(input)) {
    if (header) rows++;
    else header = parseHeader(record.fields);
  }
  if (!header) throw new CsvFileError(`the file is empty: it needs a header row starting with "${PHONE_COLUMN}"`);
  return { header, rows, sha256: hash.digest('hex') };
}

// CSV input for `herald bulk`: a header row whose first column is `phone` and whose other
// columns are template variable names, then one recipient per row. Read as a stream (never the
// whole file at once); every record carries the line of the file it starts on.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';

export const PHONE_COLUMN = 'phone';

/** The file cannot be read as the CSV `herald bulk` expects (bad header, broken quoting). */
export class CsvFileError extends Error {
  override name = 'CsvFileError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${message}` : message);
  }
}

export interface CsvRecord {
  /** The line of the file the record starts on (from 1; the header is usually line 1). */
  line: number;
  fields: string[];
}

export interface CsvHeader {
  /** The header row as written (trimmed). */
  columns: string[];
  /** The variable names: every column after `phone`. */
  variables: string[];
}

export type RowResult =
  | { ok: true; to: string; variables?: Record<string, string> }
  | { ok: false; code: 'VALIDATION_FAILED'; message: string };

const NEWLINES = /\r\n|\n|\r/g;

/**
 * Every record of a CSV stream, the header included, with the line it starts on. Empty lines
 * are skipped (but counted); records may have any number of fields (the caller checks the
 * shape); quoted fields may hold commas, quotes ("") and newlines; a UTF-8 BOM is dropped;
 * LF and CRLF line ends both work, even mixed. Broken quoting throws a CsvFileError naming the line.
 */
export async function* readCsvRecords(input: Readable): AsyncGenerator<CsvRecord> {
  const parser = input.pipe(
    parse({
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n'],
      info: true,
    }),
  );
  input.once('error', (error) => parser.destroy(error));
  // csv-parse's own `info.lines` drifts after empty lines, so lines are counted here: a record
  // starts after the previous one's last line and the empty lines in between, and spans the
  // line breaks inside its quoted fields.
  let lastLine = 0;
  let emptyLines = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { empty_lines: number } }>) {
      const line = lastLine + 1 + (info.empty_lines - emptyLines);
      emptyLines = info.empty_lines;
      let breaks = 0;
      for (const field of record) breaks += field.match(NEWLINES)?.length ?? 0;
      lastLine = line + breaks;
      yield { line, fields: record };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const at = (error as CsvError & { lines?: number }).lines;
      throw new CsvFileError(describeCsvError(error), typeof at === 'number' && at > 0 ? at : undefined);
    }
    throw error;
  }
}

function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed (an opening " without its closing ")';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a closing quote is followed by more text in the same field (write "" for a quote inside a quoted field)';
    default:
      return error.message.replace(/^Invalid (Record|Opening|Closing) Quote: /i, '');
  }
}

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

/** One CSV line (with its line end): fields quoted only when they need it (RFC 4180). */
export function csvLine(fields: readonly (string | number)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
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

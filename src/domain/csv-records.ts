// CSV records with the line each starts on, and CSV lines out: the one CSV reader and writer of
// Herald (`herald bulk`, price lists). Streams in, never the whole file at once; pure otherwise.
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';

/** The file cannot be read as CSV (broken quoting), or not as the CSV its reader expects (a bad header). */
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

/**
 * One CSV line (with its line end): fields quoted only when they need it (RFC 4180).
 * `forSpreadsheets` is for reports people open in a spreadsheet rather than files Herald reads
 * back: a field starting with = + - @ (or a tab or carriage return) would run as a formula there
 * (CSV injection, OWASP), so it gets a leading ' unless it is only a number (digits, spaces,
 * dots, dashes, parentheses and the mask's *: `+86 138****8000`), which no spreadsheet can turn
 * into a call.
 */
export function csvLine(fields: readonly (string | number)[], options: { forSpreadsheets?: boolean } = {}): string {
  return `${fields.map((f) => csvField(options.forSpreadsheets ? spreadsheetSafe(String(f)) : f)).join(',')}\r\n`;
}

export function spreadsheetSafe(text: string): string {
  return /^[=+\-@\t\r]/.test(text) && !/^[+-]?[\d\s*().-]*$/.test(text) ? `'${text}` : text;
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

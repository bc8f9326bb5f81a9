// Price lists as CSV, for importPrices, exportPrices and `herald prices`: one header row
// `provider,country,prefix,currency,price,effective_from`, then one price a line. Read with the
// CSV reader `herald bulk` uses (cli/csv.ts), so quoting, BOMs and line ends behave alike.
import { Readable } from 'node:stream';
import { csvLine, CsvFileError, readCsvRecords } from '../domain/csv-records.js';
import { ValidationError, type ValidationIssue } from '../domain/errors.js';
import { formatMicros } from '../domain/money.js';
import { parsePriceInput, priceIssuesAt, priceKey, type PriceField, type PriceRow } from '../domain/prices.js';

export const PRICE_CSV_COLUMNS = ['provider', 'country', 'prefix', 'currency', 'price', 'effective_from'] as const;
type Column = (typeof PRICE_CSV_COLUMNS)[number];

const COLUMN_OF_FIELD: Record<PriceField, Column> = {
  provider: 'provider',
  country: 'country',
  prefix: 'prefix',
  currency: 'currency',
  price: 'price',
  effectiveFrom: 'effective_from',
};

/** Largest CSV accepted, in bytes (UTF-8): one file is one transaction. */
export const MAX_IMPORT_BYTES = 1024 * 1024;
/** Most prices one CSV may hold. */
export const MAX_IMPORT_LINES = 50_000;
/** Line problems listed in one answer; a file wrong everywhere would otherwise answer megabytes. */
const MAX_REPORTED_ISSUES = 100;

/** A price read from a CSV line. */
export interface PriceLine extends PriceRow {
  line: number;
}

/** The size problem of a CSV of `bytes`, if it is over the limit (the CLI asks before reading a file). */
export function importSizeIssue(bytes: number): ValidationIssue | undefined {
  if (bytes <= MAX_IMPORT_BYTES) return undefined;
  return { path: ['csv'], message: `is ${bytes} bytes, over the ${MAX_IMPORT_BYTES}-byte (1 MiB) limit of one import; split it into several files (without replace)` };
}

/**
 * Reads a whole price list. Every bad line is reported (up to 100) with the path
 * ["csv", "<line>", "<column>"] (["csv", "<line>"] for the line as a whole); no row is returned
 * unless every line is good.
 */
export async function parsePriceCsv(csv: string, options: { providers: readonly string[]; now: Date }): Promise<PriceLine[] | ValidationError> {
  const tooLarge = importSizeIssue(Buffer.byteLength(csv, 'utf8'));
  if (tooLarge) return new ValidationError([tooLarge]);

  const issues: ValidationIssue[] = [];
  const rows: PriceLine[] = [];
  const lineOfKey = new Map<string, number>();
  let columns: Column[] | undefined;
  let dataLines = 0;
  try {
    for await (const { line, fields } of readCsvRecords(Readable.from([csv]))) {
      if (!columns) {
        const header = parseHeader(fields);
        if (header instanceof ValidationError) return header;
        columns = header;
        continue;
      }
      if (++dataLines > MAX_IMPORT_LINES) {
        return new ValidationError([{ path: ['csv'], message: `has more than ${MAX_IMPORT_LINES} prices, the limit of one import; split it into several files (without replace)` }]);
      }
      if (fields.length !== columns.length) {
        issues.push({ path: ['csv', String(line)], message: `expected ${columns.length} columns (${columns.join(',')}), found ${fields.length}` });
        continue;
      }
      const value = (column: Column) => fields[columns!.indexOf(column)]!;
      const parsed = parsePriceInput(
        { provider: value('provider'), country: value('country'), prefix: value('prefix'), currency: value('currency'), price: value('price'), effectiveFrom: value('effective_from') },
        options,
      );
      if (Array.isArray(parsed)) {
        issues.push(...priceIssuesAt(parsed, ['csv', String(line)], COLUMN_OF_FIELD));
        continue;
      }
      const key = priceKey(parsed);
      const earlier = lineOfKey.get(key);
      if (earlier !== undefined) {
        issues.push({ path: ['csv', String(line)], message: `sets the same price as line ${earlier} (same provider, country, prefix and effective_from)` });
        continue;
      }
      lineOfKey.set(key, line);
      rows.push({ ...parsed, line });
    }
  } catch (error) {
    if (!(error instanceof CsvFileError)) throw error;
    // Broken quoting: csv-parse cannot go on past it.
    issues.push({ path: error.line ? ['csv', String(error.line)] : ['csv'], message: error.message.replace(/^line \d+: /, '') });
  }
  if (!columns) return new ValidationError([{ path: ['csv'], message: `is empty: the first line must be the header ${PRICE_CSV_COLUMNS.join(',')}` }]);
  if (issues.length > MAX_REPORTED_ISSUES) {
    const more = issues.length - MAX_REPORTED_ISSUES;
    return new ValidationError([...issues.slice(0, MAX_REPORTED_ISSUES), { path: ['csv'], message: `and ${more} more ${more === 1 ? 'problem' : 'problems'} not listed` }]);
  }
  return issues.length ? new ValidationError(issues) : rows;
}

/** The header's columns in file order: each of the six once, in any order. */
function parseHeader(fields: string[]): Column[] | ValidationError {
  const names = fields.map((f) => f.trim().toLowerCase());
  const known = new Set<string>(PRICE_CSV_COLUMNS);
  const ok = names.length === PRICE_CSV_COLUMNS.length && new Set(names).size === names.length && names.every((n) => known.has(n));
  if (ok) return names as Column[];
  return new ValidationError([
    { path: ['csv', '1'], message: `the first line must be the header ${PRICE_CSV_COLUMNS.join(',')} (any order); found ${JSON.stringify(fields.join(','))}` },
  ]);
}

/** A price list as CSV (CRLF line ends, fields quoted only when needed), read back by parsePriceCsv. */
export function formatPriceCsv(rows: Iterable<PriceRow>): string {
  let csv = csvLine(PRICE_CSV_COLUMNS);
  for (const row of rows) {
    csv += csvLine([row.provider, row.country, row.prefix, row.currency, formatMicros(row.pricePerSegmentMicros), row.effectiveFrom.toISOString()]);
  }
  return csv;
}

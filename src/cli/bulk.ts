// `herald bulk`: sends a CSV of recipients through a running Herald (HTTP + API key), in chunks
// of sendMessages calls. The file is read twice as a stream (never held in memory): a first pass
// checks the header and the quoting, counts the rows and hashes the bytes; the second sends.
// Every chunk carries an idempotency key derived from the file, so running the same file again
// (after a crash, a Ctrl-C or a refused chunk) sends nothing twice and resumes where it stopped.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { InvalidArgumentError } from 'commander';
import { HeraldApiError, MAX_BULK_RECIPIENTS, type BulkResult, type SMSClient } from '../client/index.js';
import { CsvFileError, csvLine, readCsvRecords } from '../domain/csv-records.js';
import { rowToRecipient, scanCsvFile, type CsvHeader } from './csv.js';
import { describeFailure, EXIT, fail, remoteClient, remoteCommand, retryDelayMs, UsageError, type RemoteOptions } from './remote.js';
import { parseDateTime } from './send.js';

export interface BulkOptions extends RemoteOptions {
  csv: string;
  template?: string;
  body?: string;
  from?: string;
  scheduledAt?: string;
  rejected?: string;
  chunk: number;
  idempotencyPrefix?: string;
  progress: boolean;
  json?: boolean;
}

export interface BulkSummary {
  file: string;
  /** Data rows in the file. */
  rows: number;
  /** Rows handled (all of them unless the run stopped). */
  processed: number;
  accepted: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  /** One per chunk that had recipients, in file order. */
  batchIds: string[];
  /** Batches the server had already created for the same idempotency key (nothing new sent). */
  alreadySent: { batches: number; accepted: number };
  rejectedFile: string;
  idempotencyPrefix: string;
  durationMs: number;
  /** Set when the server refused a whole chunk: the run stopped there. */
  stopped?: { chunk: number; fromLine: number; code: string; message: string; unsentRows: number };
}

function chunkSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BULK_RECIPIENTS) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_BULK_RECIPIENTS}`);
  return n;
}

export function bulkCommand() {
  return remoteCommand('bulk')
    .description('send one template or body to every recipient of a CSV file through a running Herald, in chunks')
    .requiredOption('--csv <file>', 'CSV with a header row: phone, then one column per template variable')
    .option('--template <id>', 'an APPROVED template; the columns after phone are its variables')
    .option('--body <text>', 'the text to send (the CSV then has only the phone column)')
    .option('--from <sender>', 'sender id or number')
    .option('--scheduled-at <time>', 'send later (ISO 8601)', parseDateTime)
    .option('--rejected <file>', 'where to write refused rows (default: <csv>.rejected.csv)')
    .option('--chunk <rows>', `rows per sendMessages call (1-${MAX_BULK_RECIPIENTS})`, chunkSize, 1000)
    .option('--idempotency-prefix <prefix>', 'chunk i is sent with key <prefix>-<i> (default: from a hash of the file and the message options)')
    .option('--no-progress', 'no progress bar or progress lines on stderr')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
The CSV needs a header row. Its first column is "phone"; every other column names a template
variable, filled per row:

  phone,name,order
  +14155550100,Ada,A-17
  "+1 (415) 555-0101","Grace, Admiral",A-18

Rows are sent in chunks (--chunk rows, one sendMessages call each). Refused rows, with their line
in the file, code and reason, go to the rejected file; rows whose column count differs from the
header's are refused locally (VALIDATION_FAILED). Each chunk's idempotency key is derived from the
file's content and the message options, so re-running the same command sends nothing twice (for
24 hours) and resumes an interrupted run.

Exit status: 0 the run completed (even with refused rows), 1 the server refused a whole chunk or
could not be reached (the run stops; re-run to resume), 2 usage or input error (nothing sent).`,
    )
    .action(async (opts: BulkOptions) => {
      try {
        const summary = await runBulk(opts);
        console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
        if (summary.stopped) process.exitCode = EXIT.REFUSED;
      } catch (error) {
        fail(error, opts.url);
      }
    });
}

export async function runBulk(opts: BulkOptions): Promise<BulkSummary> {
  const started = Date.now();
  const { client, scan, prefix } = await planRun(opts);
  const rejectedFile = opts.rejected ?? `${opts.csv}.rejected.csv`;
  const run = new BulkRun(client, opts, prefix, createWriteStream(rejectedFile), createProgress(scan.rows, opts.progress), {
    file: opts.csv,
    rows: scan.rows,
    processed: 0,
    accepted: 0,
    rejected: 0,
    rejectedByCode: {},
    batchIds: [],
    alreadySent: { batches: 0, accepted: 0 },
    rejectedFile,
    idempotencyPrefix: prefix,
    durationMs: 0,
  });
  try {
    await write(run.out, csvLine(['line', 'code', 'message', ...scan.header.columns]));
    await sendFile(run, scan.header);
  } finally {
    run.progress.stop(run.summary);
    run.out.end();
    await once(run.out, 'close');
  }
  const { summary } = run;
  if (summary.stopped) console.error(`herald: chunk ${summary.stopped.chunk} (from line ${summary.stopped.fromLine}) refused: ${summary.stopped.message}`);
  summary.durationMs = Date.now() - started;
  return summary;
}

/** Checks the options and the file before anything is sent (a UsageError: nothing was sent). */
async function planRun(opts: BulkOptions) {
  if (!opts.body === !opts.template) throw new UsageError('give exactly one of --template or --body');
  const client = remoteClient(opts);
  const info = await stat(opts.csv).catch(() => undefined);
  if (!info?.isFile()) throw new UsageError(`--csv: no such file: ${opts.csv}`);
  const scan = await scanCsvFile(opts.csv).catch((error: unknown) => {
    throw error instanceof CsvFileError ? new UsageError(`${opts.csv}: ${error.message} (nothing was sent)`) : error;
  });
  if (opts.body && scan.header.variables.length > 0) {
    throw new UsageError(
      `${opts.csv} has variable columns (${scan.header.variables.join(', ')}) but --body sends one fixed text; use --template to fill variables, or remove those columns`,
    );
  }
  if (opts.template) await checkTemplateColumns(client, opts.template, scan.header, opts.csv);
  const prefix = opts.idempotencyPrefix ?? defaultPrefix(scan.sha256, opts);
  if (!prefix.trim() || prefix.length > 200) throw new UsageError('--idempotency-prefix: give 1 to 200 characters');
  return { client, scan, prefix };
}

/** The second pass: reads the rows as a stream and sends them chunk by chunk until done or refused. */
async function sendFile(run: BulkRun, header: CsvHeader): Promise<void> {
  let pending: PendingRow[] = [];
  let chunkIndex = 0;
  let headerSeen = false;
  for await (const record of readCsvRecords(createReadStream(run.opts.csv))) {
    if (!headerSeen) {
      headerSeen = true; // checked by the scan
      continue;
    }
    const row = rowToRecipient(header, record.fields);
    pending.push(
      row.ok
        ? { line: record.line, fields: record.fields, recipient: { to: row.to, variables: row.variables } }
        : { line: record.line, fields: record.fields, code: row.code, message: row.message },
    );
    if (pending.length >= run.opts.chunk) {
      if (!(await run.sendChunk(pending, chunkIndex++))) return;
      pending = [];
    }
  }
  if (pending.length > 0) await run.sendChunk(pending, chunkIndex);
}

/** One run's state: where refused rows go, the progress display and the summary so far. */
class BulkRun {
  constructor(
    readonly client: SMSClient,
    readonly opts: BulkOptions,
    readonly prefix: string,
    readonly out: WriteStream,
    readonly progress: Progress,
    readonly summary: BulkSummary,
  ) {}

  /** Sends one chunk and records its outcome; false when the server refused the whole chunk. */
  async sendChunk(rows: PendingRow[], index: number): Promise<boolean> {
    const { opts, prefix, summary } = this;
    const recipients = rows.filter((r) => r.recipient).map((r) => r.recipient!);
    let result: BulkResult | undefined;
    if (recipients.length > 0) {
      const requestedAt = Date.now();
      const input = { recipients, templateId: opts.template, body: opts.body, from: opts.from, scheduledAt: opts.scheduledAt, idempotencyKey: `${prefix}-${index}` };
      try {
        result = await sendWithRetries(this.client, this.progress, index, input);
      } catch (error) {
        const code = error instanceof HeraldApiError ? error.code : 'UNREACHABLE';
        let message = describeFailure(error, opts.url);
        if (code === 'IDEMPOTENCY_CONFLICT') {
          message += `. Chunk ${index} was sent before with other input under key ${prefix}-${index}: the same file with another --chunk size? Re-run with the earlier options to resume, or pass --idempotency-prefix to send the file again as a new run`;
        }
        summary.stopped = { chunk: index, fromLine: rows[0].line, code, message, unsentRows: summary.rows - summary.processed };
        return false;
      }
      summary.batchIds.push(result.batchId);
      summary.accepted += result.acceptedCount;
      // An earlier run with the same key made this batch: nothing new was sent.
      if (Date.parse(result.createdAt) < requestedAt - 2000) {
        summary.alreadySent.batches++;
        summary.alreadySent.accepted += result.acceptedCount;
      }
    }
    await this.recordRejections(rows, result);
    summary.processed += rows.length;
    this.progress.update(summary);
    return true;
  }

  /** Rows refused locally (bad columns) or by the server go to the rejected file, in file order. */
  private async recordRejections(rows: PendingRow[], result: BulkResult | undefined): Promise<void> {
    const refused = new Map(result?.rejected.map((r) => [r.index, r]) ?? []);
    let recipientIndex = 0;
    for (const row of rows) {
      if (row.recipient) {
        const rejection = refused.get(recipientIndex++);
        if (rejection) await this.writeRejected(row.line, row.fields, rejection.code, rejection.message);
      } else {
        await this.writeRejected(row.line, row.fields, row.code!, row.message!);
      }
    }
  }

  private async writeRejected(line: number, fields: string[], code: string, message: string): Promise<void> {
    this.summary.rejected++;
    this.summary.rejectedByCode[code] = (this.summary.rejectedByCode[code] ?? 0) + 1;
    await write(this.out, csvLine([line, code, message, ...fields]));
  }
}

interface PendingRow {
  line: number;
  fields: string[];
  recipient?: { to: string; variables?: Record<string, string> };
  code?: string;
  message?: string;
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** One sendMessages call, retried as is (same idempotency key) while the failure is transient. */
async function sendWithRetries(client: SMSClient, progress: Progress, index: number, input: Parameters<SMSClient['sendBulk']>[0]): Promise<BulkResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.sendBulk(input);
    } catch (error) {
      const delay = attempt < 5 ? retryDelayMs(error, attempt) : undefined;
      if (delay === undefined) throw error;
      const why = error instanceof HeraldApiError ? error.code : describeFailure(error, '');
      progress.note(`chunk ${index}: ${why}; retrying in ${(delay / 1000).toFixed(1)} s (same idempotency key)`);
      await sleep(delay);
    }
  }
}

/** The file's content plus what is sent: the same command on the same file gets the same keys. */
function defaultPrefix(sha256: string, opts: BulkOptions): string {
  const what = createHash('sha256')
    .update(JSON.stringify([sha256, opts.template ?? null, opts.body ?? null, opts.from ?? null, opts.scheduledAt ?? null]))
    .digest('hex');
  return `bulk-${what.slice(0, 24)}`;
}

async function checkTemplateColumns(client: SMSClient, templateId: string, header: CsvHeader, file: string): Promise<void> {
  const template = await client.getTemplate(templateId);
  if (!template) return; // the first chunk is refused with NOT_FOUND, which says it best
  const columns = new Set(header.variables);
  const missing = template.variables.filter((v) => !columns.has(v));
  const unknown = header.variables.filter((v) => !template.variables.includes(v));
  if (missing.length || unknown.length) {
    const expected = template.variables.length ? template.variables.join(', ') : 'none';
    const problems = [missing.length && `no column for ${missing.join(', ')}`, unknown.length && `unknown column(s) ${unknown.join(', ')}`].filter(Boolean).join('; ');
    throw new UsageError(`${file}: the columns after phone must be the variables of template "${template.name}" (${expected}): ${problems} (nothing was sent)`);
  }
}

interface Progress {
  update(summary: BulkSummary): void;
  note(text: string): void;
  stop(summary: BulkSummary): void;
}

/**
 * A bar on stderr when it is a terminal. Otherwise (CI logs, pipes) plain lines, at most one per
 * 5 seconds and one at the end, never a redrawn bar.
 */
function createProgress(total: number, enabled: boolean): Progress {
  if (!enabled) return { update() {}, note: (text) => console.error(`herald: ${text}`), stop() {} };
  const counts = (s: BulkSummary) => ({ accepted: s.accepted, rejected: s.rejected });
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'sending {bar} {percentage}% | {value}/{total} rows | {accepted} accepted, {rejected} rejected | {duration_formatted} (eta {eta_formatted})',
        hideCursor: true,
        etaBuffer: 20,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { accepted: 0, rejected: 0 });
    return {
      update: (s) => bar.update(s.processed, counts(s)),
      note: (text) => process.stderr.write(`\n${text}\n`),
      stop: (s) => {
        bar.update(s.processed, counts(s));
        bar.stop();
      },
    };
  }
  let lastLine = Date.now();
  console.error(`herald bulk: ${total} rows to send`);
  const line = (s: BulkSummary) =>
    console.error(`herald bulk: ${s.processed}/${total} rows (${total ? Math.floor((100 * s.processed) / total) : 100}%), ${s.accepted} accepted, ${s.rejected} rejected`);
  return {
    update(s) {
      if (Date.now() - lastLine < 5000) return;
      lastLine = Date.now();
      line(s);
    },
    note: (text) => console.error(`herald bulk: ${text}`),
    stop: line,
  };
}

export function formatSummary(s: BulkSummary): string {
  const lines = [
    `file        ${s.file}`,
    `rows        ${s.rows}`,
    `accepted    ${s.accepted}`,
    `rejected    ${s.rejected}`,
    ...Object.entries(s.rejectedByCode)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `  ${code.padEnd(28)} ${n}`),
    `batches     ${s.batchIds.length}`,
    ...s.batchIds.map((id) => `  ${id}`),
  ];
  if (s.alreadySent.batches > 0) {
    lines.push(`already sent ${s.alreadySent.batches} of the batches (${s.alreadySent.accepted} messages) by an earlier run with the same keys: nothing new was sent for them`);
  }
  if (s.stopped) {
    lines.push(`stopped     at chunk ${s.stopped.chunk} (line ${s.stopped.fromLine}): ${s.stopped.code}; ${s.stopped.unsentRows} rows not sent`);
  }
  lines.push(`rejected rows written to ${s.rejectedFile}`);
  const seconds = s.durationMs / 1000;
  lines.push(`time        ${seconds.toFixed(2)} s${seconds > 0 && s.processed ? ` (${Math.round(s.processed / seconds)} rows/s)` : ''}`);
  return lines.join('\n');
}

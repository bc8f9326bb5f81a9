// `herald send` and `herald bulk` as real processes against a real server process: clients over
// HTTP with an API key, never opening the database (the server holds DATA_DIR, and the CLI is
// given the same DATA_DIR: opening it would fail).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMSClient } from '../../src/client/index.js';
import { openDatabase } from '../../src/db/database.js';
import { expectNoErrors, graphqlCaller, NO_LIMITS, type GraphQLCaller } from '../support/herald.js';
import { closedPort } from '../support/ports.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';

let dataDir: string;
let workDir: string;
let server: HeraldProcess;
let url: string;
let key: string;
let api: GraphQLCaller;
let sdk: SMSClient;
let templateId: string;

async function approvedTemplate(name: string, body: string, approve = true): Promise<string> {
  const id = expectNoErrors(
    await api(`mutation($name: String!, $body: String!) { createTemplate(input: { name: $name, body: $body, category: NOTIFICATION }) { ... on CreateTemplateSuccess { data { id } } } }`, { name, body }),
  ).createTemplate.data.id as string;
  if (approve) {
    expectNoErrors(await api(`mutation($id: ID!) { submitTemplate(id: $id) { __typename } }`, { id }));
    expectNoErrors(await api(`mutation($id: ID!) { reviewTemplate(id: $id, approve: true) { __typename } }`, { id }));
  }
  return id;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'herald-e2e-cli-'));
  workDir = await mkdtemp(path.join(tmpdir(), 'herald-e2e-csv-'));
  server = spawnHerald(['server'], { DATA_DIR: dataDir, PORT: '0', DISPATCH: 'off' });
  [, key] = await server.waitFor(/^\s+(hk_\S+)$/m, 60_000);
  [, url] = await server.waitFor(/listening on (http:\/\/\S+\/graphql)/, 60_000);
  api = graphqlCaller(url, key);
  sdk = new SMSClient({ url, apiKey: key });
  const settings = expectNoErrors(await api(`mutation($limits: JSON) { updateAccountSettings(input: { limits: $limits }) { __typename } }`, { limits: NO_LIMITS }));
  expect(settings.updateAccountSettings.__typename).toBe('UpdateAccountSettingsSuccess');
  templateId = await approvedTemplate('shipping', 'Hi {{name}}, order {{order}} shipped');
}, 120_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

/** The CLI as a client of the running server; DATA_DIR is the server's (held, so never openable). */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { HERALD_URL: url, HERALD_API_KEY: key, DATA_DIR: dataDir, ...env });

const summaryValue = (stdout: string, label: string) => Number(stdout.match(new RegExp(`^${label}\\s+(\\d+)$`, 'm'))?.[1]);

describe('herald send', () => {
  it('sends one message and prints its id and status; refusals print the code on stderr and exit 1; usage errors exit 2', async () => {
    const sent = await cli(['send', '--to', '+1 415 555 0100', '--body', 'hello from the CLI']);
    expect(sent.code).toBe(0);
    const [, id, status] = sent.stdout.trim().match(/^(\S+) (\S+)$/)!;
    expect(status).toBe('QUEUED');
    expect(await sdk.getMessage(id)).toMatchObject({ to: '+14155550100', body: 'hello from the CLI', status: 'QUEUED' });

    const templated = await cli(['send', '--to', '+14155550101', '--template', templateId, '--var', 'name=Ada', '--var', 'order=A=17']);
    expect(templated.code).toBe(0);
    const templatedId = templated.stdout.trim().split(' ')[0];
    expect((await sdk.getMessage(templatedId))?.body).toBe('Hi Ada, order A=17 shipped');

    const invalid = await cli(['send', '--to', '12345', '--body', 'never sent']);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toBe('');
    expect(invalid.output).toMatch(/INVALID_PHONE_NUMBER: "12345" is not a valid phone number/);

    const mismatch = await cli(['send', '--to', '+14155550102', '--template', templateId, '--var', 'name=Ada']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.output).toMatch(/TEMPLATE_VARIABLES_MISMATCH/);

    const wrongKey = await cli(['send', '--to', '+14155550102', '--body', 'x'], { HERALD_API_KEY: 'hk_wrong' });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.output).toMatch(/UNAUTHENTICATED/);

    const closed = await closedPort();
    const unreachable = await cli(['send', '--to', '+14155550102', '--body', 'x', '--url', `http://127.0.0.1:${closed}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toContain(`cannot reach Herald at http://127.0.0.1:${closed}/graphql: ECONNREFUSED`);

    const usage = [
      ['send', '--to', '+14155550102'], // neither --body nor --template
      ['send', '--to', '+14155550102', '--body', 'x', '--template', templateId],
      ['send', '--to', '+14155550102', '--body', 'x', '--var', 'name=Ada'],
      ['send', '--to', '+14155550102', '--template', templateId, '--var', 'novalue'],
      ['send', '--body', 'x'], // no --to
      ['send', '--to', '+14155550102', '--body', 'x', '--bogus'],
    ];
    const results = await Promise.all(usage.map((args) => cli(args)));
    results.forEach((result, i) => expect(result.code, `${usage[i].join(' ')}\n${result.output}`).toBe(2));
    const noKey = await runCli(['send', '--to', '+14155550102', '--body', 'x'], { HERALD_URL: url, DATA_DIR: dataDir });
    expect(noKey.code).toBe(2);
    expect(noKey.output).toMatch(/an API key is required/);
  }, 180_000);
});

describe('SMSClient.sendBulk and getBatch', () => {
  it('returns the batch id, accepted count and rejections by index; getBatch counts by status', async () => {
    const result = await sdk.sendBulk({
      recipients: [{ to: '+14155550110' }, { to: 'nope' }, { to: '+14155550111' }],
      message: 'bulk from the SDK',
      idempotencyKey: 'sdk-bulk-1',
    });
    expect(result).toMatchObject({ total: 3, acceptedCount: 2, rejected: [{ index: 1, to: 'nope', code: 'INVALID_PHONE_NUMBER' }] });
    expect(await sdk.getBatch(result.batchId)).toMatchObject({ total: 3, acceptedCount: 2, rejectedCount: 1, idempotencyKey: 'sdk-bulk-1', counts: { QUEUED: 2 } });
    const again = await sdk.sendBulk({ recipients: [{ to: '+14155550110' }, { to: 'nope' }, { to: '+14155550111' }], body: 'bulk from the SDK', idempotencyKey: 'sdk-bulk-1' });
    expect(again.batchId).toBe(result.batchId);
    await expect(sdk.sendBulk({ recipients: [{ to: '+14155550110' }], templateId: await approvedTemplate('draft-only', 'Hi {{name}}', false) })).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_APPROVED',
    });
    expect(await sdk.getBatch('00000000-0000-0000-0000-000000000000')).toBeNull();
  });
});

describe('herald bulk', () => {
  const ROWS = 10_000;
  interface Bad {
    line: number;
    fields: string[];
    code: string;
  }

  /** 10 000 data rows with a few bad ones, an empty line and a quoted multi-line value; the lines of the bad rows. */
  function generateCsv(): { text: string; bad: Bad[]; lineOf: Map<number, number> } {
    const out = ['phone,name,order\n'];
    const bad: Bad[] = [];
    const lineOf = new Map<number, number>();
    const badRows: Record<number, { fields: string[]; code: string }> = {
      17: { fields: ['12345', 'Bad', 'B-17'], code: 'INVALID_PHONE_NUMBER' },
      500: { fields: ['+14155550500', 'Only two'], code: 'VALIDATION_FAILED' },
      4321: { fields: ['call me maybe', 'Bad', 'B-4321'], code: 'INVALID_PHONE_NUMBER' },
      7777: { fields: ['+14155557777', 'Too', 'many', 'columns'], code: 'VALIDATION_FAILED' },
      9998: { fields: ['+999 123', 'Bad', 'B-9998'], code: 'INVALID_PHONE_NUMBER' },
    };
    let line = 2;
    const quote = (f: string) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
    for (let i = 0; i < ROWS; i++) {
      if (i === 5000) {
        out.push('\n'); // an empty line: skipped, but counted in the line numbers
        line++;
      }
      let fields = [`+1415555${String(i).padStart(4, '0')}`, `N${i}`, `O-${i}`];
      if (i === 100) fields = [fields[0], 'Ada\nLovelace', 'O-100']; // spans two lines
      if (i === 9999) fields = [fields[0], 'Grace, Admiral', 'A-"18"'];
      if (badRows[i]) {
        fields = badRows[i].fields;
        bad.push({ line, fields, code: badRows[i].code });
      }
      lineOf.set(i, line);
      const text = fields.map(quote).join(',');
      out.push(`${text}\n`);
      line += 1 + (text.match(/\n/g)?.length ?? 0);
    }
    return { text: out.join(''), bad, lineOf };
  }

  it('sends a 10 000-row CSV in idempotent chunks: summary, rejected rows with their lines, exactly the accepted messages stored, nothing new on a re-run', async () => {
    const { text, bad } = generateCsv();
    const file = path.join(workDir, 'customers.csv');
    await writeFile(file, text);

    const started = performance.now();
    const run = await cli(['bulk', '--csv', file, '--template', templateId]);
    const elapsed = performance.now() - started;
    expect(run.code, run.output).toBe(0);
    console.log(`herald bulk: ${ROWS} rows in ${(elapsed / 1000).toFixed(2)} s (whole process); CLI says: ${run.stdout.match(/^time\s+(.*)$/m)?.[1]}`);

    // The summary, on stdout.
    const accepted = ROWS - bad.length;
    expect(summaryValue(run.stdout, 'rows')).toBe(ROWS);
    expect(summaryValue(run.stdout, 'accepted')).toBe(accepted);
    expect(summaryValue(run.stdout, 'rejected')).toBe(bad.length);
    expect(summaryValue(run.stdout, '  INVALID_PHONE_NUMBER')).toBe(3);
    expect(summaryValue(run.stdout, '  VALIDATION_FAILED')).toBe(2);
    expect(summaryValue(run.stdout, 'batches')).toBe(10);
    const batchIds = [...run.stdout.matchAll(/^ {2}([0-9a-f-]{36})$/gm)].map((m) => m[1]);
    expect(batchIds).toHaveLength(10);
    expect(run.stdout).toContain(`rejected rows written to ${file}.rejected.csv`);
    // stderr is not a terminal here: plain progress lines, no redrawn bar.
    expect(run.output).not.toMatch(/\u001b\[|\r(?!\n)/);
    expect(run.output).toMatch(/herald bulk: 10000\/10000 rows \(100%\), 9995 accepted, 5 rejected/);

    // The rejected file: line, code, message, then the row as it was.
    const rejected = parse(await readFile(`${file}.rejected.csv`, 'utf8'), { relax_column_count: true }) as string[][];
    expect(rejected[0]).toEqual(['line', 'code', 'message', 'phone', 'name', 'order']);
    expect(rejected.slice(1).map(([line, code, , ...fields]) => ({ line: Number(line), code, fields }))).toEqual(bad);
    expect(rejected[1][2]).toBe('"12345" is not a valid phone number');
    expect(rejected.find((r) => r[3] === '+14155550500')?.[2]).toBe('expected 3 columns (phone,name,order), found 2');

    // The server holds exactly the accepted messages, in those ten batches.
    const batches = await Promise.all(batchIds.map((id) => sdk.getBatch(id)));
    // Chunks of 1 000 rows; the rows refused locally (column count) are not sent.
    expect(batches.map((b) => b?.total)).toEqual([999, 1000, 1000, 1000, 1000, 1000, 1000, 999, 1000, 1000]);
    expect(batches.reduce((sum, b) => sum + (b?.counts.QUEUED ?? 0), 0)).toBe(accepted);
    expect(batches.reduce((sum, b) => sum + b!.acceptedCount, 0)).toBe(accepted);
    const grace = await sdk.listMessages({ to: '+14155559999', batchId: batchIds[9] });
    expect(grace.messages.map((m) => m.body)).toEqual(['Hi Grace, Admiral, order A-"18" shipped']);
    const ada = await sdk.listMessages({ to: '+14155550100', batchId: batchIds[0] });
    expect(ada.messages.map((m) => m.body)).toEqual(['Hi Ada\nLovelace, order O-100 shipped']);

    // The same file again: every chunk's key is known, so the server returns the first batches.
    const rerunStarted = new Date().toISOString();
    const again = await cli(['bulk', '--csv', file, '--template', templateId, '--json']);
    expect(again.code, again.output).toBe(0);
    const summary = JSON.parse(again.stdout);
    // (`alreadySent` is the CLI's clock-based estimate, informational only: not asserted.)
    expect(summary).toMatchObject({ rows: ROWS, processed: ROWS, accepted, rejected: 5, batchIds });
    const created = expectNoErrors(await api(`query($after: DateTime) { messages(first: 5, filter: { createdAfter: $after }) { edges { node { id } } } }`, { after: rerunStarted }));
    expect(created.messages.edges).toEqual([]);
    expect((await Promise.all(batchIds.map((id) => sdk.getBatch(id)))).reduce((sum, b) => sum + b!.acceptedCount, 0)).toBe(accepted);
  }, 180_000);

  it('stops with exit 1 when the server refuses a whole chunk, and exits 2 on usage or input errors with nothing sent', async () => {
    const file = path.join(workDir, 'small.csv');
    await writeFile(file, 'phone,name\n+14155550200,Ada\n+14155550201,Grace\n');
    const draft = await approvedTemplate('not-yet', 'Hello {{name}}', false);

    const refused = await cli(['bulk', '--csv', file, '--template', draft]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/chunk 0 \(from line 2\) refused: TEMPLATE_NOT_APPROVED/);
    expect(refused.stdout).toMatch(/stopped\s+at chunk 0 \(line 2\): TEMPLATE_NOT_APPROVED; 2 rows not sent/);

    const unknown = await cli(['bulk', '--csv', file, '--template', '00000000-0000-0000-0000-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.output).toMatch(/NOT_FOUND/);

    // Column names must be the template's variables: checked before anything is sent.
    const columns = await cli(['bulk', '--csv', file, '--template', templateId]);
    expect(columns.code).toBe(2);
    expect(columns.output).toMatch(/variables of template "shipping" \(name, order\): no column for order/);

    // --body with variable columns would send "{{name}}" literally: refused.
    const body = await cli(['bulk', '--csv', file, '--body', 'Hello {{name}}']);
    expect(body.code).toBe(2);
    expect(body.output).toMatch(/variable columns \(name\) but --body/);

    await writeFile(path.join(workDir, 'noheader.csv'), '+14155550200,Ada\n');
    await writeFile(path.join(workDir, 'quote.csv'), 'phone\n+14155550200\n"+14155550201\n');
    const usage = [
      ['bulk', '--csv', file], // neither --template nor --body
      ['bulk', '--csv', path.join(workDir, 'missing.csv'), '--body', 'x'],
      ['bulk', '--csv', path.join(workDir, 'noheader.csv'), '--body', 'x'],
      ['bulk', '--csv', path.join(workDir, 'quote.csv'), '--body', 'x'],
      ['bulk', '--csv', file, '--body', 'x', '--chunk', '10001'],
      ['bulk', '--csv', file, '--body', 'x', '--chunk', '0'],
    ];
    const results = await Promise.all(usage.map((args) => cli(args)));
    results.forEach((result, i) => expect(result.code, `${usage[i].join(' ')}\n${result.output}`).toBe(2));

    // A body-only file works with --body; a re-run with another --chunk size reuses chunk 0's key
    // with other input: refused with IDEMPOTENCY_CONFLICT rather than sending twice.
    const phones = path.join(workDir, 'phones.csv');
    await writeFile(phones, 'phone\n+14155550300\n+14155550301\n+14155550302\n');
    const first = await cli(['bulk', '--csv', phones, '--body', 'Sale today', '--chunk', '2', '--rejected', path.join(workDir, 'phones-out.csv')]);
    expect(first.code, first.output).toBe(0);
    expect(summaryValue(first.stdout, 'accepted')).toBe(3);
    expect(summaryValue(first.stdout, 'batches')).toBe(2);
    expect(await readFile(path.join(workDir, 'phones-out.csv'), 'utf8')).toBe('line,code,message,phone\r\n');
    const conflict = await cli(['bulk', '--csv', phones, '--body', 'Sale today', '--chunk', '3']);
    expect(conflict.code).toBe(1);
    expect(conflict.output).toMatch(/IDEMPOTENCY_CONFLICT/);
    expect(conflict.output).toMatch(/--idempotency-prefix/);
    const fresh = await cli(['bulk', '--csv', phones, '--body', 'Sale today', '--idempotency-prefix', 'sale-2']);
    expect(fresh.code).toBe(0);
    expect(summaryValue(fresh.stdout, 'accepted')).toBe(3);
  }, 180_000);

  it('leaves in the database exactly the messages the CLI and the SDK reported', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const database = await openDatabase({ databaseUrl: undefined, dataDir, holder: 'cli-send test' });
    try {
      // send: 2; SDK bulk: 2; bulk: 9 995 (once, despite the re-run); phones.csv: 3 + 3 (new prefix).
      expect(await database.prisma.message.count()).toBe(2 + 2 + 9995 + 3 + 3);
    } finally {
      await database.close();
    }
  }, 60_000);
});

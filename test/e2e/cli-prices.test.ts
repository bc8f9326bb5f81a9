// `herald prices import|export` as real processes on the embedded database (no server running:
// the CLI opens DATA_DIR itself), then a server on the same DATA_DIR reading what they wrote.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, graphqlCaller } from '../support/herald.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';

let dataDir: string;
let workDir: string;
let adminKey: string;
let server: HeraldProcess | undefined;
let serverUrl: string | undefined;

const HEADER = 'provider,country,prefix,currency,price,effective_from';
const cli = (args: string[]) => runCli(args, { DATA_DIR: dataDir });

async function csvFile(name: string, lines: string[]): Promise<string> {
  const file = path.join(workDir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'herald-e2e-prices-'));
  workDir = await mkdtemp(path.join(tmpdir(), 'herald-e2e-prices-csv-'));
  const created = await cli(['keys', 'create', '--name', 'e2e', '--account', 'shop', '--role', 'ADMIN']);
  expect(created.code, created.output).toBe(0);
  adminKey = created.stdout.trim().split('\n').at(-1)!;
}, 120_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe('herald prices', { timeout: 120_000 }, () => {
  it('imports a price list, refuses a bad one whole with its line errors, and exports CSV that imports back', async () => {
    const good = await csvFile('good.csv', [HEADER, 'simulator,US,,USD,0.0079,2026-01-01T00:00:00Z', 'simulator,US,1415,USD,0.01,2026-02-01']);
    const imported = await cli(['prices', 'import', good, '--account', 'shop']);
    expect(imported.code, imported.output).toBe(0);
    expect(imported.stdout).toMatch(/imported into account "shop": 2 created, 0 replaced, 0 removed/);

    const bad = await csvFile('bad.csv', [HEADER, 'simulator,CN,,CNY,0.05,', 'simulator,US,,USD,-1,', 'twilio,US,,USD,1,2026-02-30']);
    const refused = await cli(['prices', 'import', bad, '--account', 'shop', '--replace']);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('nothing was written');
    expect(refused.output).toContain('line 3, price: must not be negative');
    expect(refused.output).toMatch(/line 4, provider: "twilio" is not a configured provider/);
    expect(refused.output).toMatch(/line 4, effective_from: must be an ISO 8601 date-time/);

    const exported = await cli(['prices', 'export', '--account', 'shop']);
    expect(exported.code, exported.output).toBe(0);
    expect(exported.stdout).toBe(
      `${HEADER}\r\nsimulator,US,,USD,0.0079,2026-01-01T00:00:00.000Z\r\nsimulator,US,1415,USD,0.01,2026-02-01T00:00:00.000Z\r\n`,
    );

    const roundTrip = path.join(workDir, 'exported.csv');
    await writeFile(roundTrip, exported.stdout);
    const reimported = await cli(['prices', 'import', roundTrip, '--account', 'shop', '--replace']);
    expect(reimported.stdout).toMatch(/0 created, 2 replaced, 0 removed/);
    expect((await cli(['prices', 'export', '--account', 'shop'])).stdout).toBe(exported.stdout);
  });

  it('says so for an unknown account or an unreadable file, with a non-zero exit', async () => {
    const unknown = await cli(['prices', 'export', '--account', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('no account named "nobody"');
    const missing = await cli(['prices', 'import', path.join(workDir, 'missing.csv'), '--account', 'shop']);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('cannot read');
  });

  it("a server on the same data directory prices previews from the CLI's list", async () => {
    server = spawnHerald(['server'], { DATA_DIR: dataDir, PORT: '0', DISPATCH: 'off', BOOTSTRAP_ADMIN_KEY: 'false' });
    const [, url] = await server.waitFor(/listening on (http:\/\/\S+\/graphql)/, 60_000);
    serverUrl = url;
    const api = graphqlCaller(url, adminKey);
    const preview = expectNoErrors(await api(`{ previewMessage(input: { body: "hi", to: "+14155550100" }) { costs { provider pricePerSegment currency estimatedCost } } }`));
    expect(preview.previewMessage.costs).toEqual([{ provider: 'simulator', pricePerSegment: '0.01', currency: 'USD', estimatedCost: '0.01' }]);
  });

  it('the audit log names the CLI commands that created the key and imported the prices (the refused import is not there)', async () => {
    expect(serverUrl, 'the server of the test before').toBeDefined();
    const api = graphqlCaller(serverUrl!, adminKey);
    const { auditLog } = expectNoErrors(await api(`{ auditLog(first: 10) { edges { node { keyId keyName action after } } } }`));
    expect(auditLog.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { keyId: null, keyName: 'herald prices import (CLI)', action: 'price.import', after: { created: 0, replaced: 2, removed: 0, replace: true } },
      { keyId: null, keyName: 'herald prices import (CLI)', action: 'price.import', after: { created: 2, replaced: 0, removed: 0, replace: false } },
      { keyId: null, keyName: 'herald keys create', action: 'apiKey.create', after: expect.objectContaining({ name: 'e2e', role: 'ADMIN' }) },
    ]);
  });
});

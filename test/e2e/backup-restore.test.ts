// `herald backup FILE` / `herald restore FILE` as real processes: a backup taken from a running
// server (which holds DATA_DIR), the data directory wiped, restored, and a new server finding
// every message, key (the old keys still authenticate), template and setting. Then the refusals:
// each a clear message, exit code ≠ 0, and DATA_DIR exactly as it was.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { expectNoErrors, graphqlCaller, NO_LIMITS, type GraphQLCaller } from '../support/herald.js';
import { closedPort } from '../support/ports.js';
import { runCli, spawnHerald, type HeraldProcess } from '../support/process.js';

let workDir: string;
let dataDir: string;
let backupFile: string;
const running: HeraldProcess[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'herald-e2e-backup-'));
  dataDir = path.join(workDir, 'data');
  backupFile = path.join(workDir, 'herald.backup');
});

afterAll(async () => {
  for (const proc of running) {
    if (proc.child.exitCode === null) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  }
  await rm(workDir, { recursive: true, force: true });
});

async function startServer(): Promise<{ proc: HeraldProcess; url: string; key?: string }> {
  const proc = spawnHerald(['server'], { DATA_DIR: dataDir, PORT: '0' });
  running.push(proc);
  const [, url] = await proc.waitFor(/listening on (http:\/\/\S+\/graphql)/, 90_000);
  const key = proc.output().match(/^\s+(hk_\S+)$/m)?.[1];
  return { proc, url, key };
}

async function stop(proc: HeraldProcess): Promise<void> {
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
}

/** Every file under `dir` with its size and content hash: "untouched" means this is equal. */
function fingerprint(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    out[rel] = entry.isFile() ? `${statSync(full).size}:${createHash('sha1').update(readFileSync(full)).digest('hex')}` : 'dir';
  }
  return out;
}

/** The `Setting` table (per-install secrets), read with no server running. */
async function readSettings(): Promise<{ key: string; value: string }[]> {
  const db = await openDatabase({ databaseUrl: undefined, dataDir, holder: 'backup test' });
  try {
    return await db.prisma.setting.findMany({ select: { key: true, value: true }, orderBy: { key: 'asc' } });
  } finally {
    await db.close();
  }
}

const STATE = /* GraphQL */ `
  query {
    accountSettings { helpText limits }
    apiKeys { id name role prefix revokedAt }
    templates(first: 50) { edges { node { id name status body version } } }
    messages(first: 100) { edges { node { id to body status } } }
  }
`;

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename ... on SendMessageSuccess { data { id } } } }`;

async function readState(api: GraphQLCaller) {
  const state = expectNoErrors(await api(STATE));
  const sortById = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
  return {
    settings: state.accountSettings,
    keys: sortById(state.apiKeys as { id: string }[]),
    templates: sortById((state.templates.edges as { node: { id: string } }[]).map((e) => e.node)),
    messageCount: (state.messages.edges as unknown[]).length,
    messages: sortById((state.messages.edges as { node: { id: string; status: string; body: string } }[]).map((e) => e.node)),
  };
}

describe('herald backup and herald restore on the embedded database', () => {
  let adminKey: string;
  let senderKey: string;
  let before: Awaited<ReturnType<typeof readState>>;
  let settingsBefore: { key: string; value: string }[];

  it('backs up a running server, restores into a wiped DATA_DIR, and a new start finds everything', async () => {
    const first = await startServer();
    adminKey = first.key!;
    expect(adminKey).toMatch(/^hk_/);
    const api = graphqlCaller(first.url, adminKey);

    expectNoErrors(await api(`mutation($limits: JSON) { updateAccountSettings(input: { limits: $limits, helpText: "Help: reply STOP to stop" }) { __typename } }`, { limits: NO_LIMITS }));
    const created = expectNoErrors(await api(`mutation { createApiKey(name: "ci", role: SENDER) { ... on CreateApiKeySuccess { data { secret } } } }`));
    senderKey = created.createApiKey.data.secret;
    const template = expectNoErrors(
      await api(`mutation { createTemplate(input: { name: "shipping", body: "Hi {{name}}, shipped", category: NOTIFICATION }) { ... on CreateTemplateSuccess { data { id } } } }`),
    ).createTemplate.data.id as string;
    expectNoErrors(await api(`mutation($id: ID!) { submitTemplate(id: $id) { __typename } }`, { id: template }));
    expectNoErrors(await api(`mutation($id: ID!) { reviewTemplate(id: $id, approve: true) { __typename } }`, { id: template }));

    const sender = graphqlCaller(first.url, senderKey);
    for (let i = 0; i < 12; i++) {
      const input = i % 3 === 0 ? { to: `+1415555${String(1000 + i)}`, templateId: template, variables: { name: `n${i}` } } : { to: `+1415555${String(1000 + i)}`, body: `backup test ${i}` };
      expect(expectNoErrors(await sender(SEND, { input })).sendMessage.__typename).toBe('SendMessageSuccess');
    }
    // Let the simulator deliver them, so the backup holds final statuses and their events.
    const deadline = Date.now() + 60_000;
    for (;;) {
      before = await readState(api);
      if (before.messages.every((m) => m.status === 'DELIVERED')) break;
      if (Date.now() > deadline) throw new Error(`not delivered: ${JSON.stringify(before.messages.map((m) => m.status))}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(before.messageCount).toBe(12);
    expect(before.templates).toHaveLength(1);
    expect(before.keys).toHaveLength(2);

    const cliEnv = { DATA_DIR: dataDir, HERALD_URL: first.url };
    // While the server runs: without a key the CLI says why it cannot, and writes nothing.
    const noKey = await runCli(['backup', backupFile], cliEnv);
    expect(noKey.code).toBe(1);
    expect(noKey.output).toMatch(/in use by herald server \(pid \d+\).*give an ADMIN key/s);
    expect(existsSync(backupFile)).toBe(false);
    const asSender = await runCli(['backup', backupFile, '--key', senderKey], cliEnv);
    expect(asSender.code).toBe(1);
    expect(asSender.output).toMatch(/HTTP 403 FORBIDDEN.*needs an ADMIN API key/);
    const closed = await closedPort();
    const unreachable = await runCli(['backup', backupFile, '--key', adminKey, '--url', `http://127.0.0.1:${closed}`], cliEnv);
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toContain(`held by a running server, but it could not be asked for a backup: cannot reach Herald at http://127.0.0.1:${closed}/graphql: ECONNREFUSED`);
    expect(existsSync(backupFile)).toBe(false);

    const backup = await runCli(['backup', backupFile, '--key', adminKey], cliEnv);
    expect(backup.code, backup.output).toBe(0);
    expect(backup.stdout).toMatch(/through the running server/);
    expect(readFileSync(backupFile).subarray(0, 16).toString()).toBe('HERALD-BACKUP 1\n');
    // The server kept serving through it.
    expect((await readState(api)).messageCount).toBe(12);

    await stop(first.proc);
    settingsBefore = await readSettings();
    expect(settingsBefore.length).toBeGreaterThanOrEqual(2); // the per-install secrets at least

    await rm(dataDir, { recursive: true });
    const restored = await runCli(['restore', backupFile], { DATA_DIR: dataDir });
    expect(restored.code, restored.output).toBe(0);
    expect(restored.stdout).toMatch(/12 messages, 2 API keys, 1 templates/);

    const second = await startServer();
    expect(second.key).toBeUndefined(); // not a new database: no new bootstrap key
    const after = await readState(graphqlCaller(second.url, adminKey));
    expect(after).toEqual(before);
    // The SENDER key authenticates too.
    const one = expectNoErrors(await graphqlCaller(second.url, senderKey)(`query($id: ID!) { message(id: $id) { body status } }`, { id: before.messages[1]!.id }));
    expect(one.message).toEqual({ body: before.messages[1]!.body, status: 'DELIVERED' });
    expect(before.messages.some((m) => m.body === 'Hi n0, shipped')).toBe(true);
    // And it still sends.
    expect(expectNoErrors(await graphqlCaller(second.url, senderKey)(SEND, { input: { to: '+14155552000', body: 'after restore' } })).sendMessage.__typename).toBe('SendMessageSuccess');

    // A running server's DATA_DIR is refused before the restore writes anything into it.
    const held = readdirSync(dataDir).sort();
    const busy = await runCli(['restore', backupFile], { DATA_DIR: dataDir });
    expect(busy.code).toBe(1);
    expect(busy.output).toMatch(/restore refused: the embedded database in .* is in use by herald server/);
    expect(readdirSync(dataDir).sort()).toEqual(held);
    await stop(second.proc);

    // Every per-install secret and setting (seal keys, signing secrets) is the same.
    expect(await readSettings()).toEqual(settingsBefore);
  }, 300_000);

  it('refuses a non-empty DATA_DIR, a truncated or random file and PostgreSQL, each leaving DATA_DIR as it was', async () => {
    expect(existsSync(backupFile)).toBe(true);
    const untouched = fingerprint(dataDir);
    const nonEmpty = await runCli(['restore', backupFile], { DATA_DIR: dataDir });
    expect(nonEmpty.code).toBe(1);
    expect(nonEmpty.output).toMatch(/restore refused \(DATA_DIR_NOT_EMPTY\): .* is not empty \(it holds pgdata\)/);
    expect(fingerprint(dataDir)).toEqual(untouched);

    const whole = await readFile(backupFile);
    const truncated = path.join(workDir, 'half.backup');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const corrupted = path.join(workDir, 'flipped.backup');
    const flipped = Buffer.from(whole);
    flipped[flipped.length - 100] ^= 0xff;
    await writeFile(corrupted, flipped);
    const random = path.join(workDir, 'random.bin');
    await writeFile(random, createHash('sha512').update('not a backup').digest());

    const fresh = path.join(workDir, 'fresh');
    const cases: [string, RegExp][] = [
      [truncated, /restore refused \(TRUNCATED\): the file was cut short/],
      [corrupted, /restore refused \(CORRUPTED\): the file is damaged/],
      [random, /restore refused \(NOT_A_BACKUP\): not a Herald backup/],
      [path.join(workDir, 'missing.backup'), /cannot read .*missing\.backup: ENOENT/],
    ];
    for (const [file, message] of cases) {
      const result = await runCli(['restore', file], { DATA_DIR: fresh });
      expect(result.code, result.output).toBe(1);
      expect(result.output).toMatch(message);
      expect(existsSync(fresh), `${file} left ${fresh} behind`).toBe(false);
    }

    const postgres = { DATA_DIR: dataDir, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };
    const pgBackup = await runCli(['backup', path.join(workDir, 'pg.backup')], postgres);
    expect(pgBackup.code).toBe(1);
    expect(pgBackup.output).toContain('pg_dump --format=custom --file=herald.dump "$DATABASE_URL"');
    expect(existsSync(path.join(workDir, 'pg.backup'))).toBe(false);
    const pgRestore = await runCli(['restore', backupFile], postgres);
    expect(pgRestore.code).toBe(1);
    expect(pgRestore.output).toContain('pg_restore --no-owner --dbname="$DATABASE_URL" herald.dump');
    expect(fingerprint(dataDir)).toEqual(untouched);

    // Without a server the CLI backs up directly; an existing FILE is kept unless --force.
    const again = await runCli(['backup', backupFile], { DATA_DIR: dataDir });
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/exists; pass --force/);
    const forced = await runCli(['backup', backupFile, '--force'], { DATA_DIR: dataDir });
    expect(forced.code, forced.output).toBe(0);
    expect(forced.stdout).toMatch(/directly \(no server was running on it\)/);
  }, 180_000);
});

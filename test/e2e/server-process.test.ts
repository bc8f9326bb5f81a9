import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, graphqlCaller } from '../support/herald.js';
import { runCli, spawnHerald } from '../support/process.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'herald-e2e-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ... on SendMessageSuccess { data { id status } } } }`;

describe('the herald server process on the embedded database', () => {
  it('prints the first ADMIN key once, keeps every message across a restart, and locks DATA_DIR while running', async () => {
    const env = { DATA_DIR: dataDir, PORT: '0', DISPATCH: 'off' };
    const first = spawnHerald(['server'], env);
    const [, key] = await first.waitFor(/^\s+(hk_\S+)$/m);
    const [, url] = await first.waitFor(/listening on (http:\/\/\S+\/graphql)/);

    const api = graphqlCaller(url, key);
    const sent = expectNoErrors(await api(SEND, { input: { to: '+14155550100', body: 'survives restarts' } })).sendMessage.data;
    expect(sent.status).toBe('QUEUED');

    // While the server holds the embedded database, the CLI refuses to open it.
    const busy = await runCli(['keys', 'create', '--name', 'x'], env);
    expect(busy.code).not.toBe(0);
    expect(busy.output).toMatch(/in use by herald server \(pid \d+\)/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = spawnHerald(['server'], env);
    const [, url2] = await second.waitFor(/listening on (http:\/\/\S+\/graphql)/);
    expect(second.output()).not.toMatch(/hk_/); // the bootstrap key is printed only once
    const again = expectNoErrors(await graphqlCaller(url2, key)(`query($id: ID!) { message(id: $id) { body status } }`, { id: sent.id }));
    expect(again.message).toEqual({ body: 'survives restarts', status: 'QUEUED' });
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);

    // Once the server is gone the CLI works, printing the new key as the last line alone.
    const created = await runCli(['keys', 'create', '--name', 'ci', '--role', 'SENDER', '--account', 'team-b'], env);
    expect(created.code).toBe(0);
    const lastLine = created.stdout.trim().split('\n').at(-1)!;
    expect(lastLine).toMatch(/^hk_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);

    const listed = await runCli(['keys', 'list', '--account', 'team-b'], env);
    expect(listed.stdout).toContain("'ci'");
    expect(listed.stdout).not.toContain(lastLine);

    const prefix = lastLine.split('_')[1];
    const revoked = await runCli(['keys', 'revoke', prefix], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('revoked key "ci"');
  });

  it('refuses to start with a bad variable and names it', async () => {
    const proc = spawnHerald(['server'], { DATA_DIR: dataDir, PORT: 'eighty', REDIS_URL: 'http://nope' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/PORT/);
    expect(proc.output()).toMatch(/REDIS_URL: must be a redis/);
  });

  it('exits non-zero and says why when migrations cannot be applied', async () => {
    const proc = spawnHerald(['server'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', PORT: '0' });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/cannot start: cannot connect to PostgreSQL to apply migrations/);
  });
});

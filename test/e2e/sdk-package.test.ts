// The package as a consumer gets it: `npm pack`, then `npm install --omit=dev` of the tarball in
// a fresh project (no devDependencies, none of this repository's generators), then
// `herald-gateway/client` imported by plain Node and type-checked by TypeScript from the built
// files that package.json's exports point at. Slow (the install takes ~35 s on a warm npm cache,
// ~50 s on a cold one), hence e2e.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { repoRoot } from '../support/process.js';

const run = promisify(execFile);

// Under `npm test` npm passes this project's own settings (its prefix, its package fields) down
// through the environment; the consumer's npm must see only the user's configuration.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(name)));

let consumerDir: string;
let herald: TestHerald;

async function packAndInstall(): Promise<void> {
  // Rebuilt from src/client so the tarball holds what the sources say now, not the last `npm ci`.
  await run(process.execPath, ['scripts/build-client.mjs'], { cwd: repoRoot });
  // --ignore-scripts: `prepare` (every generator) already ran at `npm ci`; running it here would
  // rewrite the generated files other tests are reading.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', consumerDir], { cwd: repoRoot, env: npmEnv, maxBuffer: 16 << 20 });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  await writeFile(path.join(consumerDir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', path.join(consumerDir, filename)], {
    cwd: consumerDir,
    env: npmEnv,
    timeout: 240_000,
    maxBuffer: 16 << 20,
  });
}

beforeAll(async () => {
  consumerDir = await mkdtemp(path.join(tmpdir(), 'herald-sdk-consumer-'));
  [herald] = await Promise.all([startTestHerald(), packAndInstall()]);
}, 300_000);

afterAll(async () => {
  await herald?.stop();
  await rm(consumerDir, { recursive: true, force: true });
});

const CONSUMER_SCRIPT = `
import { HeraldApiError, MAX_BULK_RECIPIENTS, SMSClient } from 'herald-gateway/client';

const client = new SMSClient({ url: process.env.HERALD_URL, apiKey: process.env.HERALD_API_KEY });
const sent = await client.sendSMS({ to: '+1 415 555 0100', message: 'from a consumer' });
const refused = await client.sendSMS({ to: '12345', message: 'x' }).catch((error) => error);
console.log(JSON.stringify({
  resolved: import.meta.resolve('herald-gateway/client'),
  exports: { SMSClient: typeof SMSClient, HeraldApiError: typeof HeraldApiError, MAX_BULK_RECIPIENTS },
  operations: ['sendSMS', 'sendBulk', 'getMessage', 'listMessages'].filter((name) => typeof SMSClient.prototype[name] === 'function'),
  sent: { to: sent.to, body: sent.body, status: sent.status },
  refused: { isApiError: refused instanceof HeraldApiError, code: refused.code, details: refused.details },
}));
`;

const CONSUMER_TYPES = `
import { HeraldApiError, SMSClient, type Message } from 'herald-gateway/client';

const client = new SMSClient({ url: 'http://127.0.0.1:4000/graphql', apiKey: 'hk_x' });
export const sent: Promise<Message> = client.sendSMS({ to: '+14155550100', message: 'typed' });
export const status: Promise<Message['status'] | undefined> = client.getMessage('x').then((m) => m?.status);
export const isApiError = (error: unknown): string | undefined => (error instanceof HeraldApiError ? error.code : undefined);
// @ts-expect-error: a recipient is required
client.sendSMS({ message: 'to nobody' });
`;

describe('herald-gateway/client installed from the packed tarball', () => {
  it('installs without devDependencies and runs no install script of its own', async () => {
    const installed = JSON.parse(await readFile(path.join(consumerDir, 'node_modules/herald-gateway/package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall']) expect(installed.scripts[hook]).toBeUndefined();
    expect(existsSync(path.join(consumerDir, 'node_modules/@graphql-codegen'))).toBe(false);
  });

  it('imports in plain Node from the built JavaScript and sends a message', async () => {
    const { senderKey } = await herald.seedAccount();
    await writeFile(path.join(consumerDir, 'send.mjs'), CONSUMER_SCRIPT);
    const { stdout } = await run(process.execPath, ['send.mjs'], { cwd: consumerDir, env: { ...process.env, HERALD_URL: herald.url, HERALD_API_KEY: senderKey } });
    expect(JSON.parse(stdout)).toEqual({
      resolved: expect.stringMatching(/\/node_modules\/herald-gateway\/dist\/client\/index\.js$/),
      exports: { SMSClient: 'function', HeraldApiError: 'function', MAX_BULK_RECIPIENTS: 10_000 },
      operations: ['sendSMS', 'sendBulk', 'getMessage', 'listMessages'],
      sent: { to: '+14155550100', body: 'from a consumer', status: 'QUEUED' },
      refused: { isApiError: true, code: 'INVALID_PHONE_NUMBER', details: { type: 'InvalidPhoneNumberError', input: '12345' } },
    });
  });

  it('type-checks against the shipped .d.ts files (strict, library checks on)', async () => {
    await writeFile(path.join(consumerDir, 'check.ts'), CONSUMER_TYPES);
    await writeFile(
      path.join(consumerDir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ['check.ts'] }),
    );
    // This repository's compiler: the check is about the package's types, not the consumer's tools.
    const tsc = run(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', consumerDir], { cwd: consumerDir });
    await expect(tsc.then(() => 'ok', (error: { stdout: string }) => error.stdout)).resolves.toBe('ok');
  });
});

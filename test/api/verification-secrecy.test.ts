// The code reaches the user in the SMS and nowhere else: not in any GraphQL response, not in
// the Verification row, not in a log line. This file runs its own Herald with every log line
// captured (level trace) and the dispatcher on, so the code also travels the delivery path
// (dispatcher, simulator, status webhook) while the logs are watched.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openSealed } from '../../src/domain/sealing.js';
import { getMessageSealKey } from '../../src/services/secrets.js';
import { createSecretStore } from '../../src/store/secrets.js';
import { makeConfig } from '../../src/config/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logging/logger.js';
import { startHerald, type RunningHerald } from '../../src/app/server.js';
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';
import { FAST_DISPATCHER, waitFor } from '../support/delivery.js';
import { createOwnDatabase, NO_LIMITS, testDatabaseKind, type GraphQLCaller } from '../support/herald.js';
import { approvedTemplate } from '../support/templates.js';
import { CHECK, LIST, rawId, SETTINGS, START, VERIFICATION_FIELDS, wrongCode } from './verification-helpers.js';

const logLines: string[] = [];
const responses: string[] = [];
let herald: RunningHerald;
let database: Database;
let dropDatabase: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // A dispatching Herald claims every due message of its database: on PostgreSQL it gets one of its own.
  const databaseUrl = testDatabaseKind() === 'postgres' ? await ownPostgresDatabase() : undefined;
  database = await openDatabase({ databaseUrl, dataDir: '/nonexistent', pgliteDataDir: 'memory://', holder: 'test' });
  const config = makeConfig({ port: 0, production: true, bootstrapAdminKey: false, logLevel: 'trace', dispatch: true, dispatcher: FAST_DISPATCHER });
  herald = await startHerald({ config, logger: createLogger(config, { write: (line: string) => void logLines.push(line) }), database });
});

afterAll(async () => {
  await herald?.stop();
  await database?.close();
  await dropDatabase?.();
});

async function ownPostgresDatabase(): Promise<string> {
  const own = await createOwnDatabase(inject('postgresUrl'));
  dropDatabase = own.drop;
  return own.url;
}

/** A GraphQL client that keeps every raw response body. */
function recordingCaller(key: string): GraphQLCaller {
  return async (query, variables) => {
    const response = await fetch(`${herald.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    responses.push(text);
    const json = JSON.parse(text);
    if (json.errors?.length) throw new Error(`GraphQL errors: ${text}`);
    return { status: response.status, data: json.data };
  };
}

it('never shows the code in a GraphQL response, the Verification row or a log line', async () => {
  const account = await ensureAccount(database.prisma, `secrecy-${Date.now()}`);
  await database.prisma.accountSettings.create({ data: { accountId: account.id, limits: NO_LIMITS } });
  const adminKey = (await createApiKey(database.prisma, { accountId: account.id, name: 'admin', role: 'ADMIN' })).secret;
  const senderKey = (await createApiKey(database.prisma, { accountId: account.id, name: 'sender', role: 'SENDER' })).secret;
  const admin = recordingCaller(adminKey);
  const sender = recordingCaller(senderKey);

  // Ten digits: a code that long never turns up by chance inside a timestamp or an id.
  const templateId = await approvedTemplate({ accountId: account.id, adminKey, senderKey, admin, sender }, 'Code {{code}}, valid {{minutes}} min', 'OTP');
  const viaDefault = (await sender(START, { input: { to: '+14155550123', codeLength: 10 } })).data.startVerification;
  const viaTemplate = (await sender(START, { input: { to: '+8613800138000', codeLength: 10, templateId } })).data.startVerification;
  expect(viaDefault.__typename).toBe('StartVerificationSuccess');
  expect(viaTemplate.__typename).toBe('StartVerificationSuccess');

  const codes: string[] = [];
  for (const verification of [viaDefault.data, viaTemplate.data]) {
    const row = await database.prisma.verification.findUniqueOrThrow({ where: { id: rawId(verification.id) }, include: { message: true } });
    // The stored body shows the code masked; the dispatcher opens the sealed copy to send it.
    expect(row.message!.body).toMatch(/•{10}/);
    const code = /\d{10}/.exec(openSealed(await getMessageSealKey(createSecretStore(database.prisma)), row.message!.sealedBody!))![0];
    codes.push(code);
    const wrong = (await sender(CHECK, { input: { to: verification.to, code: wrongCode(code) } })).data.checkVerification;
    expect(wrong).toMatchObject({ reason: 'INCORRECT_CODE', attemptsLeft: 4 });
    expect((await sender(CHECK, { input: { to: verification.to, code } })).data.checkVerification.__typename).toBe('CheckVerificationSuccess');
    expect((await sender(CHECK, { input: { to: verification.to, code } })).data.checkVerification.reason).toBe('NOT_FOUND');
  }
  expect(new Set(codes).size).toBe(2);

  // The codes' messages are delivered (dispatcher, simulator, webhook) while logs are captured.
  await waitFor(async () => (await database.prisma.message.count({ where: { accountId: account.id, status: 'DELIVERED' } })) === 2, { what: 'both codes delivered' });
  await sender(LIST, { first: 10 });
  await sender(`query($id: ID!) { node(id: $id) { ... on Verification { ${VERIFICATION_FIELDS} message { id status body variables events { status } } } } }`, { id: viaDefault.data.id });
  await sender(`{ messages(first: 10) { edges { node { body variables } } } }`);
  await admin(SETTINGS, { input: { otpAllowedCountries: [] } });

  // Every column of every Verification and Message row, in every plausible encoding.
  const rows = await database.prisma.$queryRaw<Record<string, unknown>[]>`SELECT * FROM "Verification" WHERE "accountId" = ${account.id}::uuid`;
  expect(rows).toHaveLength(2);
  const messageRows = await database.prisma.$queryRaw<Record<string, unknown>[]>`SELECT * FROM "Message" WHERE "accountId" = ${account.id}::uuid`;
  expect(messageRows).toHaveLength(2);
  const stored = [...rows, ...messageRows].flatMap((row) =>
    Object.values(row).flatMap((value) => {
      if (value instanceof Uint8Array) {
        const bytes = Buffer.from(value);
        return [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('latin1'), bytes.toString('utf8')];
      }
      return [value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value)];
    }),
  );

  expect(responses.length).toBeGreaterThan(10);
  expect(logLines.length).toBeGreaterThan(0);
  for (const code of codes) {
    expect(responses.filter((r) => r.includes(code))).toEqual([]);
    expect(stored.filter((v) => v.includes(code))).toEqual([]);
    expect(logLines.filter((l) => l.includes(code))).toEqual([]);
  }
});

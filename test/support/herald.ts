// Starts a real Herald (real port, real database) for a test file, with a seed DSL:
// every test creates its own account, so tests never see each other's data.
import pg from 'pg';
import { inject } from 'vitest';
import { makeConfig, type Config } from '../../src/config/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logging/logger.js';
import { startHerald, type RunningHerald } from '../../src/app/server.js';
import { createApiKey, ensureAccount } from '../../src/services/api-keys.js';

export interface TestHerald {
  herald: RunningHerald;
  url: string;
  database: Database;
  /** SQL statements run since the last reset (for N+1 checks). */
  queries: string[];
  /**
   * A fresh account with an ADMIN and a SENDER key. Its frequency limits are lifted (tests send
   * many messages to one number) unless `limits: 'default'` is asked for.
   */
  seedAccount(name?: string, options?: { limits?: 'default' | 'none' }): Promise<SeededAccount>;
  stop(): Promise<void>;
}

export interface SeededAccount {
  accountId: string;
  adminKey: string;
  senderKey: string;
  /** A GraphQL client bound to the ADMIN key. */
  admin: GraphQLCaller;
  /** A GraphQL client bound to the SENDER key. */
  sender: GraphQLCaller;
}

export type GraphQLCaller = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse<T>>;

export interface GraphQLResponse<T> {
  status: number;
  data: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

let counter = 0;

/** Limit overrides that lift every limit: for tests that are not about limits. */
export const NO_LIMITS = {
  recipient: { OTP: [], NOTIFICATION: [], MARKETING: [] },
  recipientTotal: [],
  requests: { max: 1_000_000, perSeconds: 1 },
  accountQuota: [],
};

export function testDatabaseKind(): 'pglite' | 'postgres' {
  return process.env.HERALD_TEST_DB === 'postgres' ? 'postgres' : 'pglite';
}

/**
 * `databaseUrl` (PostgreSQL runs only) points Herald at a database the caller made and drops
 * itself, e.g. through a relay it can cut.
 */
export async function startTestHerald(overrides: Partial<Config> = {}, options: { databaseUrl?: string } = {}): Promise<TestHerald> {
  const queries: string[] = [];
  const kind = testDatabaseKind();
  // A dispatcher claims every due message in its database, so a dispatching Herald must not
  // share the run's PostgreSQL database with other test files (running in parallel): it gets
  // a database of its own, dropped at stop(). PGlite databases are per Herald anyway.
  const ownDatabase = kind === 'postgres' && overrides.dispatch && !options.databaseUrl ? await createOwnDatabase(inject('postgresUrl')) : undefined;
  const database = await openDatabase({
    databaseUrl: kind === 'postgres' ? (options.databaseUrl ?? ownDatabase?.url ?? inject('postgresUrl')) : undefined,
    dataDir: '/nonexistent',
    pgliteDataDir: 'memory://',
    holder: 'test',
    onQuery: (sql) => queries.push(sql),
  });
  // The dispatcher is off unless a test turns it on: foundation tests look at QUEUED messages.
  // So is messageStats' rollup loop: its passes would land in `queries` at random moments (its
  // tests run passes themselves, test/api/stats-rollup.test.ts). Provider quality's flushes too
  // (written at stop only), unless a test asks for them (test/api/provider-quality.test.ts).
  const config = makeConfig({
    port: 0,
    production: true,
    bootstrapAdminKey: false,
    logLevel: 'silent',
    dispatch: false,
    statsRollupPollMs: 0,
    retentionPollMs: 0,
    qualityFlushMs: 0,
    ...overrides,
  });
  const herald = await startHerald({ config, logger: createLogger(config), database });
  const url = `${herald.url}/graphql`;

  return {
    herald,
    url,
    database,
    queries,
    async seedAccount(name = `acct-${process.pid}-${Date.now()}-${++counter}`, options = {}) {
      const account = await ensureAccount(database.prisma, name);
      if (options.limits !== 'default') {
        await database.prisma.accountSettings.create({ data: { accountId: account.id, limits: NO_LIMITS } });
      }
      const adminKey = (await createApiKey(database.prisma, { accountId: account.id, name: 'admin', role: 'ADMIN' })).secret;
      const senderKey = (await createApiKey(database.prisma, { accountId: account.id, name: 'sender', role: 'SENDER' })).secret;
      return { accountId: account.id, adminKey, senderKey, admin: graphqlCaller(url, adminKey), sender: graphqlCaller(url, senderKey) };
    },
    async stop() {
      await herald.stop();
      await database.close();
      await ownDatabase?.drop();
    },
  };
}

let ownDatabases = 0;

/** A database of its own next to this run's PostgreSQL database (for a Herald that dispatches). */
export async function createOwnDatabase(runUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const url = new URL(runUrl);
  const name = `${url.pathname.slice(1)}_${process.pid}_${++ownDatabases}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: runUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export function graphqlCaller(url: string, key: string | undefined): GraphQLCaller {
  return async (query, variables) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const json = (await response.json()) as { data: any; errors?: GraphQLResponse<unknown>['errors'] };
    return { status: response.status, data: json.data, errors: json.errors };
  };
}

/** Fails with the query and the whole response when a GraphQL call returned errors. */
export function expectNoErrors<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length) {
    throw new Error(`GraphQL errors (HTTP ${response.status}): ${JSON.stringify(response.errors, null, 2)}`);
  }
  return response.data;
}

import { defineConfig } from 'vitest/config';

// Three kinds of tests:
// - unit: pure domain logic, no database;
// - api: the real server in-process on a real port, run twice — on embedded PGlite and on the
//   machine's PostgreSQL (a fresh database per run, created and dropped by the global setup);
// - e2e: real `herald` processes (start, restart, CLI, signals) on the embedded database.
export default defineConfig({
  resolve: {
    // graphql 16 has no "exports": Node loads its CommonJS build (as yoga, run natively, does)
    // while Vite would pick the "module" build, giving two GraphQLError classes and masked
    // errors. Pin the one Node uses.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'api-pglite', include: ['test/api/**/*.test.ts'], env: { HERALD_TEST_DB: 'pglite', NODE_ENV: 'test' } },
      },
      {
        extends: true,
        test: {
          name: 'api-postgres',
          include: ['test/api/**/*.test.ts'],
          env: { HERALD_TEST_DB: 'postgres', NODE_ENV: 'test' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 60_000 } },
    ],
  },
});

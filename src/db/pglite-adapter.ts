import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory, SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';

/**
 * pglite-prisma-adapter 0.7 with two fixes the schema engine needs:
 * - `getConnectionInfo().schemaName` is undefined (the factory drops its options), and the
 *   engine rejects a missing schema name ("expected a string");
 * - `executeScript` does not await `exec`, so a failing migration script would surface as an
 *   unhandled rejection instead of a failed migration.
 */
export function createPGliteAdapterFactory(pglite: PGlite): SqlMigrationAwareDriverAdapterFactory {
  const inner = new PrismaPGlite(pglite);
  const patch = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    const getConnectionInfo = adapter.getConnectionInfo?.bind(adapter);
    return Object.assign(adapter, {
      getConnectionInfo: () => ({ ...(getConnectionInfo?.() ?? { supportsRelationJoins: true }), schemaName: 'public' }),
      executeScript: async (script: string) => {
        await pglite.exec(script);
      },
    });
  };
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => patch(await inner.connect()),
    connectToShadowDb: async () => patch(await inner.connectToShadowDb()),
  };
}

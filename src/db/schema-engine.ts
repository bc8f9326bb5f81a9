// Prisma's migration engine, run as WebAssembly over a driver adapter.
//
// Why not `prisma migrate deploy`: the CLI needs a native schema-engine binary that it
// downloads from outside the npm registry, which fails offline. The WASM
// build of the same engine applies migrations and records `_prisma_migrations` exactly as
// `migrate deploy` does (same checksums), on PostgreSQL and on PGlite.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

type Bindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

let bindings: Promise<Bindings> | undefined;

/** Instantiates the engine's WASM module once per process (Node 20 cannot `import` .wasm). */
function loadBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    const bg = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as Bindings;
    const pkgDir = path.dirname(fileURLToPath(import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg')));
    const wasm = await readFile(path.join(pkgDir, 'schema_engine_bg.wasm'));
    // @types/node 20 does not declare the WebAssembly global, though Node has it.
    const { WebAssembly: wasmApi } = globalThis as unknown as {
      WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }> };
    };
    const { instance } = await wasmApi.instantiate(wasm, { './schema_engine_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    return bg;
  })();
  return bindings;
}

export async function openSchemaEngine(
  schemaPath: string,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
): Promise<SchemaEngine> {
  const bg = await loadBindings();
  const datamodel = await readFile(schemaPath, 'utf8');
  // The engine logs JSON lines through this callback; migrations report failures as
  // rejected promises instead, so the log is not needed.
  const log = () => {};
  return bg.SchemaEngine.new({ datamodels: [[schemaPath, datamodel]] }, log, bindMigrationAwareSqlAdapterFactory(adapterFactory));
}

/**
 * Diffs two Prisma datamodels into an SQL script. The engine insists on a connection even
 * for a pure datamodel diff, so a throwaway in-memory PGlite serves as one.
 */
export async function diffDatamodels(fromSchema: string | null, toSchema: string, toPath: string): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { createPGliteAdapterFactory } = await import('./pglite-adapter.js');
  const pglite = new PGlite();
  const engine = await openSchemaEngine(toPath, createPGliteAdapterFactory(pglite));
  try {
    const result = await engine.diff({
      from: fromSchema === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: 'previous.prisma', content: fromSchema }] },
      to: { tag: 'schemaDatamodel', files: [{ path: toPath, content: toSchema }] },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.exitCode === 2 ? (result.stdout ?? '') : '';
  } finally {
    engine.free();
    await pglite.close();
  }
}

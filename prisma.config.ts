// Prisma CLI configuration. Only `prisma generate` is used from the CLI: migrations run
// through the WASM schema engine (src/db/migrate.ts), because the native engine cannot be
// downloaded offline. The CLI still looks for a native binary before it starts, so point it
// at any existing executable; generate never runs it (docs/testing.md, "Prisma without its native engine").
import { defineConfig } from 'prisma/config';

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/herald' },
});

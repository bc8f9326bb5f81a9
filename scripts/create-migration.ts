// Creates the next migration from changes to prisma/schema.prisma, without the native
// engine: diffs the schema snapshot kept beside the newest migration against the current
// schema (no database or shadow database needed). Usage: npm run db:migration -- <name>
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { migrationsDir, schemaPath } from '../src/db/migrate.js';
import { diffDatamodels } from '../src/db/schema-engine.js';

const name = (process.argv[2] ?? '').replace(/[^a-z0-9_]+/gi, '_').toLowerCase();
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(2);
}

await mkdir(migrationsDir, { recursive: true });
const existing = (await readdir(migrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
const latest = existing.at(-1);
const previous = latest ? await readFile(path.join(migrationsDir, latest, 'schema.prisma'), 'utf8') : null;
const current = await readFile(schemaPath, 'utf8');

const sql = await diffDatamodels(previous, current, schemaPath);
if (!sql.trim()) {
  console.log('schema.prisma has no changes since the last migration');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = path.join(migrationsDir, `${stamp}_${name}`);
await mkdir(dir);
await writeFile(path.join(dir, 'migration.sql'), sql);
await writeFile(path.join(dir, 'schema.prisma'), current);
await writeFile(path.join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
console.log(`created ${path.relative(process.cwd(), dir)}/migration.sql`);

// A pre-initialised embedded database, made once at install (`npm ci` runs scripts/generate.mjs)
// and unpacked into a fresh DATA_DIR instead of running initdb there.
//
// Why: PGlite's initdb runs PostgreSQL's bootstrap in WASM on every new data directory: 3–10 s
// on this project's 2-core machines and a memory peak near 900 MB, most of a first `npm start`.
// Unpacking the same cluster from a tarball (PGlite's own dumpDataDir/loadDataDir) takes about a
// second and applies the migrations in the same go, since the template is made with them.
//
// The template's name carries PGlite's version and a hash of the migrations it holds: a template
// made by another PGlite or before a migration was added or edited is never used (the start
// falls back to initdb and the migration runner, as without a template).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations, readMigrations } from './migrate.js';
import { projectRoot as root } from '../config/paths.js';

const CACHE_DIR = path.join(root, 'node_modules', '.cache', 'herald');

function pgliteVersion(): string {
  const manifest = path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Where the template for this PGlite and these migrations lives (whether or not it exists). */
export async function templatePath(): Promise<string> {
  const hash = createHash('sha256');
  for (const migration of await readMigrations()) hash.update(`${migration.name}\0${migration.checksum}\n`);
  return path.join(CACHE_DIR, `pgdata-${pgliteVersion()}-${hash.digest('hex').slice(0, 16)}.tar.gz`);
}

/**
 * Opens PGlite on `dataDir`: an existing cluster as it is; a new one unpacked from the template
 * when there is one, else made by initdb. The caller applies migrations either way (nothing to
 * do when they came with the template).
 */
export async function openPGlite(dataDir: string, options: { template?: string } = {}): Promise<PGlite> {
  const fresh = dataDir.startsWith('memory://') || !existsSync(path.join(dataDir, 'PG_VERSION'));
  const template = fresh ? (options.template ?? (await templatePath())) : undefined;
  const loadDataDir = template && existsSync(template) ? new Blob([await readFile(template)]) : undefined;
  const pglite = new PGlite(dataDir, { ...(loadDataDir && { loadDataDir }), startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS] });
  await pglite.waitReady;
  return pglite;
}

/**
 * PostgreSQL's default 128 MB of shared buffers are all touched when PGlite starts (its WASM
 * memory): ~120 MB of a server's idle RSS for a database one process uses. 32 MB holds the hot
 * pages of a small deployment; reads past them come from the operating system's file cache.
 * Deployments that need more run PostgreSQL (DATABASE_URL).
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=32MB'];

/** Makes the template (an in-memory cluster with every migration applied) unless it exists. */
export async function buildTemplate(): Promise<{ path: string; built: boolean }> {
  const target = await templatePath();
  if (existsSync(target)) return { path: target, built: false };
  const pglite = new PGlite();
  try {
    await pglite.waitReady;
    await applyMigrations(pglite, { advisoryLock: false });
    // A clean shutdown point, so the files dumped need no recovery when unpacked.
    await pglite.exec('CHECKPOINT');
    const tarball = await pglite.dumpDataDir('gzip');
    await mkdir(CACHE_DIR, { recursive: true });
    // Written aside, then renamed: a start never sees half a template.
    const partial = `${target}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await tarball.arrayBuffer()));
    await rename(partial, target);
    return { path: target, built: true };
  } finally {
    await pglite.close();
  }
}

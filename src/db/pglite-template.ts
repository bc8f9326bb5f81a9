// A pre-initialised embedded database, made once at install (`npm ci` runs scripts/generate.mjs)
// and copied into a fresh DATA_DIR instead of running initdb there.
//
// Why: PGlite's initdb runs PostgreSQL's bootstrap in WASM on every new data directory: 3–10 s
// on this project's 2-core machines and a memory peak near 900 MB, most of a first `npm start`.
// The template holds the same cluster with every migration applied, in two forms:
// - a directory, copied file by file with the operating system's copy (about 0.1 s for its 1 100
//   files here) into a new DATA_DIR. PGlite's own loadDataDir (a tarball unpacked through its
//   emulated file system) took 1.0–1.5 s for the same files, after PGlite had started, and left
//   ~100 MB of tarball buffers in the server's memory;
// - a tarball, for in-memory databases (`memory://`, the tests), which loadDataDir is the only
//   way to fill.
//
// The template's name carries PGlite's version and a hash of the migrations it holds: a template
// made by another PGlite or before a migration was added or edited is never used (the start
// falls back to initdb and the migration runner, as without a template).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations, readMigrations } from './migrate.js';
import { projectRoot as root } from '../config/paths.js';

const CACHE_DIR = path.join(root, 'node_modules', '.cache', 'herald');
const PGLITE_DIR = path.join(root, 'node_modules', '@electric-sql', 'pglite');

export function pgliteVersion(): string {
  return (JSON.parse(readFileSync(path.join(PGLITE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface TemplatePaths {
  /** The cluster as a directory, copied into a new DATA_DIR. */
  dir: string;
  /** The same cluster as a gzipped tarball, for in-memory databases. */
  tarball: string;
}

/** Where the template for this PGlite and these migrations lives (whether or not it exists). */
export function templatePaths(): TemplatePaths {
  const hash = createHash('sha256');
  for (const migration of readMigrations()) hash.update(`${migration.name}\0${migration.checksum}\n`);
  const dir = path.join(CACHE_DIR, `pgdata-${pgliteVersion()}-${hash.digest('hex').slice(0, 16)}`);
  return { dir, tarball: `${dir}.tar.gz` };
}

/**
 * Opens PGlite on `dataDir`: an existing cluster as it is; a new one copied from the template
 * when there is one, else made by initdb. The caller applies migrations either way (nothing to
 * do when they came with the template). `template` overrides the template's location (tests).
 *
 * Not an async function on purpose: everything up to setting the copy going (and PGlite's WASM
 * compiling) happens before it returns, so that both proceed on other threads while the caller's
 * thread does something else (src/db/database.ts, openDatabaseEarly).
 */
export function openPGlite(dataDir: string, options: { template?: TemplatePaths } = {}): Promise<PGlite> {
  let ready: Promise<[WebAssembly.Module | undefined, Blob | undefined]>;
  try {
    const inMemory = dataDir.startsWith('memory://');
    const fresh = inMemory || !existsSync(path.join(dataDir, 'PG_VERSION'));
    const template = fresh ? (options.template ?? templatePaths()) : undefined;
    ready = Promise.all([
      compiledPGliteWasm(),
      !template ? undefined : inMemory ? readTarball(template.tarball) : copyTemplate(template.dir, dataDir).then(() => undefined),
    ]);
  } catch (error) {
    return Promise.reject(error);
  }
  return ready.then(async ([pgliteWasmModule, loadDataDir]) => {
    const pglite = new PGlite(dataDir, {
      ...(pgliteWasmModule && { pgliteWasmModule }),
      ...(loadDataDir && { loadDataDir }),
      startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
    });
    await pglite.waitReady;
    return pglite;
  });
}

/**
 * PostgreSQL's default 128 MB of shared buffers are all touched when PGlite starts (its WASM
 * memory): ~120 MB of a server's idle RSS for a database one process uses. 32 MB holds the hot
 * pages of a small deployment; reads past them come from the operating system's file cache.
 * Deployments that need more run PostgreSQL (DATABASE_URL).
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=32MB'];

let wasmModule: Promise<WebAssembly.Module | undefined> | undefined;

/**
 * PGlite's WASM module, compiled once per process. PGlite would compile it too, but only once
 * its own start reaches that step; started here, it compiles on V8's threads while the template
 * is copied. Undefined (PGlite then finds its module itself) when the file is not where this
 * PGlite keeps it.
 */
function compiledPGliteWasm(): Promise<WebAssembly.Module | undefined> {
  if (!wasmModule) {
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(path.join(PGLITE_DIR, 'dist', 'pglite.wasm'));
    } catch {
      bytes = undefined;
    }
    // readFileSync gives a Buffer over a plain ArrayBuffer (never a shared one).
    wasmModule = bytes ? WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>) : Promise.resolve(undefined);
  }
  return wasmModule;
}

async function readTarball(file: string): Promise<Blob | undefined> {
  if (!existsSync(file)) return undefined;
  return new Blob([await readFile(file)], { type: 'application/x-gzip' });
}

/**
 * Copies the template directory to `dataDir` when there is one: into a sibling first, renamed
 * into place once complete, so that a start interrupted halfway leaves no half cluster that the
 * next start would take for a database (it looks for PG_VERSION). The caller holds DATA_DIR's
 * lock, so copies left by an interrupted start can be removed.
 *
 * The directories are made and every file's copy is queued before it returns: libuv's threads
 * then copy without needing this thread, however busy it is meanwhile.
 */
function copyTemplate(templateDir: string, dataDir: string): Promise<void> {
  if (!existsSync(path.join(templateDir, 'PG_VERSION'))) return Promise.resolve();
  const parent = path.dirname(dataDir);
  const base = path.basename(dataDir);
  mkdirSync(parent, { recursive: true });
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith(`${base}.partial-`)) rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
  const partial = path.join(parent, `${base}.partial-${process.pid}`);
  const entries = readdirSync(templateDir, { recursive: true, withFileTypes: true });
  const relative = (entry: Dirent) => path.relative(templateDir, path.join(entry.parentPath, entry.name));
  mkdirSync(partial);
  for (const entry of entries) {
    if (entry.isDirectory()) mkdirSync(path.join(partial, relative(entry)), { recursive: true });
  }
  const copies = entries.filter((entry) => entry.isFile()).map((entry) => copyFile(path.join(templateDir, relative(entry)), path.join(partial, relative(entry))));
  return Promise.all(copies).then(async () => {
    // An empty directory (made by hand, or by an older Herald that failed before writing) gives
    // way to the copy; one with other files in it is not a cluster and is not touched.
    await rmdir(dataDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw new Error(`${dataDir} is not empty and holds no database (no PG_VERSION); move it away`);
    });
    await rename(partial, dataDir);
  });
}

/** Makes the template (a cluster with every migration applied) unless it exists. */
export async function buildTemplate(): Promise<{ path: string; built: boolean }> {
  const target = templatePaths();
  if (existsSync(path.join(target.dir, 'PG_VERSION')) && existsSync(target.tarball)) return { path: target.dir, built: false };
  await mkdir(CACHE_DIR, { recursive: true });
  // Made aside, then renamed: a start never sees half a template.
  const partialDir = `${target.dir}.${process.pid}.partial`;
  await rm(partialDir, { recursive: true, force: true });
  // initdb runs in memory (PGlite's way), its cluster is then written to partialDir.
  const pglite = new PGlite(partialDir);
  try {
    await pglite.waitReady;
    await applyMigrations(pglite, { advisoryLock: false });
    // A clean point, so the tarball needs no recovery when unpacked.
    await pglite.exec('CHECKPOINT');
    const tarball = await pglite.dumpDataDir('gzip');
    const partialTarball = `${target.tarball}.${process.pid}.partial`;
    await writeFile(partialTarball, Buffer.from(await tarball.arrayBuffer()));
    await rename(partialTarball, target.tarball);
  } finally {
    // Closing shuts the cluster down cleanly: the directory needs no recovery either.
    await pglite.close();
  }
  if (existsSync(path.join(target.dir, 'PG_VERSION'))) {
    // Only the tarball was missing: the directory in place may be being copied by a start.
    await rm(partialDir, { recursive: true, force: true });
  } else {
    await rm(target.dir, { recursive: true, force: true });
    await rename(partialDir, target.dir);
  }
  return { path: target.dir, built: true };
}

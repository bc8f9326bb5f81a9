// `npm start`: brings the server bundle up to date with src/ (scripts/build-server.mjs; nothing
// to do when it is current), then runs it in this same process with V8's code cache.
//
// Why a code cache: Node 20 compiles every function of the 4.5 MB bundle from source on every
// start (it has no compile cache; 22 has). V8 can serialise the functions it compiled and take
// them back on the next run (a vm.Script's cachedData): compiling and evaluating the bundle fell
// from ~400 to ~250 ms of CPU, and the functions the start runs next (the schema's construction,
// the server's set-up) come from the cache too. The cache is written by a start that found none
// (or a stale one: it is keyed by a hash of the bundle), once the server listens; V8 refuses a
// cache made by another Node or with other flags, and the start then simply compiles as before.
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { buildServer, bundlePath, codeCachePath } from './build-server.mjs';

// Worker processes (src/app/cluster.ts) run this file too: the primary has built the bundle.
if (cluster.isPrimary) await buildServer();
runWithCodeCache(bundlePath, codeCachePath);

function runWithCodeCache(file, cacheFile) {
  const source = readFileSync(file, 'latin1');
  const key = createHash('sha256').update(source).digest();
  const cache = readCache(cacheFile, key);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData: cache,
    // The bundle imports a few ES modules at run time (PGlite's, Prisma's); resolved as from here.
    importModuleDynamically: (specifier) => import(specifier),
  });
  if (!cache || script.cachedDataRejected) writeCacheOnceListening(script, cacheFile, key);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
}

/** The cached data when the cache file was made for this very bundle. */
function readCache(cacheFile, key) {
  if (!existsSync(cacheFile)) return undefined;
  const data = readFileSync(cacheFile);
  return data.subarray(0, key.length).equals(key) ? data.subarray(key.length) : undefined;
}

/**
 * Once the process has a listening server (the start ran), serialises what V8 compiled so far.
 * Polled, unreferenced: it never keeps the process alive, and a start that fails writes nothing.
 */
function writeCacheOnceListening(script, cacheFile, key) {
  const started = Date.now();
  const poll = setInterval(() => {
    if (!process.getActiveResourcesInfo().includes('TCPServerWrap')) {
      if (Date.now() - started > 60_000) clearInterval(poll);
      return;
    }
    clearInterval(poll);
    const partial = `${cacheFile}.${process.pid}.partial`;
    try {
      writeFileSync(partial, Buffer.concat([key, script.createCachedData()]));
      renameSync(partial, cacheFile);
    } catch {
      // Only an optimisation: the next start compiles from source and tries again.
    }
  }, 50);
  poll.unref();
}

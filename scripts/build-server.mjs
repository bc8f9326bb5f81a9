// `npm start` runs one esbuild bundle of src/main.ts and the packages it uses (dist/herald.cjs),
// not TypeScript through the tsx loader, nor ~1 000 separate ES modules: Node 20 resolves,
// reads and links each module on its own, and importing the server took 1.3 s that way against
// 0.5 s as one file (measured with `node -e "import('./dist/…')"` on this project's machine).
//
// The bundle is a CommonJS script, not an ES module, so that scripts/start.mjs can run it with a
// V8 code cache (Node 20 has no compile cache for modules; a vm.Script takes cached data).
// `node dist/herald.cjs` runs it too, without the cache.
//
// Left out of the bundle, loaded from node_modules at run time:
// - PGlite and Prisma's runtime, which find their .wasm and .data files beside their own modules;
// - pg, which Prisma's adapter imports too (one copy of it), and whose CommonJS defaults came out
//   wrong when bundled (a startup packet with an object for a string);
// - the GraphiQL page (imported on its first visit, src/http/yoga.ts) and pino-pretty (development
//   logs only, required at run time).
// Paths to prisma/, data/ and dashboard/dist come from src/config/paths.ts, which finds the repository
// by its package.json, so they hold from the bundle as from src/.
//
// Prisma's query compiler (a WASM module) ships as a JavaScript module holding it as a 4.4 MB
// base64 string: importing it kept that string twice in the heap for the life of the process
// (the module's source and the constant), and the generated client compiled it synchronously on
// the main thread. The build writes the decoded module beside the bundle, and the bundle's copy of
// the generated client compiles that file asynchronously instead (prismaQueryCompilerFromFile).
//
// scripts/start.mjs calls buildServer() before every start; it does nothing while the bundle is
// newer than every file it is made of (src/, the installed packages, this script).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const bundlePath = path.join(root, 'dist', 'herald.cjs');
/** V8's code cache for the bundle, written by scripts/start.mjs; stale once the bundle changes. */
export const codeCachePath = `${bundlePath}.v8cache`;
const QUERY_COMPILER_FILE = 'prisma-query-compiler.wasm';

const EXTERNAL = ['@electric-sql/pglite', '@prisma/*', 'pg', 'pg-*', '@graphql-yoga/render-graphiql', 'pino-pretty'];

/** Newest modification time among the bundle's inputs. */
function newestInput() {
  const src = path.join(root, 'src');
  const times = readdirSync(src, { recursive: true, encoding: 'utf8' }).map((file) => statSync(path.join(src, file)).mtimeMs);
  // npm rewrites node_modules/.package-lock.json on every install or update.
  for (const file of ['node_modules/.package-lock.json', 'package.json', 'scripts/build-server.mjs']) {
    const full = path.join(root, file);
    if (existsSync(full)) times.push(statSync(full).mtimeMs);
  }
  return Math.max(...times);
}

/**
 * Replaces the generated client's loader of the query compiler (dynamic import of the base64
 * module, then a synchronous `new WebAssembly.Module`) by an asynchronous compile of the decoded
 * file the build writes beside the bundle. Fails the build when the generated code no longer has
 * the expected shape (a Prisma upgrade), rather than shipping the old loader unnoticed.
 */
function prismaQueryCompilerFromFile(writeWasm) {
  return {
    name: 'prisma-query-compiler-from-file',
    setup(build) {
      build.onLoad({ filter: /[\\/]generated[\\/]prisma[\\/]internal[\\/]class\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const loader = /getQueryCompilerWasmModule: async \(\) => \{\s*const \{ wasm \} = await import\("([^"]+\.wasm-base64\.mjs)"\)\s*return await decodeBase64AsWasm\(wasm\)\s*\}/;
        const match = loader.exec(source);
        if (!match) throw new Error(`${args.path}: the query compiler's loader is not the one scripts/build-server.mjs replaces`);
        const base64Module = createRequire(args.path).resolve(match[1]);
        const base64 = /const wasm = "([A-Za-z0-9+/=]+)"/.exec(readFileSync(base64Module, 'utf8'))?.[1];
        if (!base64) throw new Error(`${base64Module}: no base64 WASM constant found`);
        writeWasm(Buffer.from(base64, 'base64'));
        const replacement =
          'getQueryCompilerWasmModule: async () => WebAssembly.compile(' +
          `await require('node:fs/promises').readFile(require('node:path').join(__dirname, ${JSON.stringify(QUERY_COMPILER_FILE)})))`;
        // The runtime beside it, as its CommonJS build: the bundle imports nothing as an ES module.
        const runtime = /await import\("(@prisma\/client\/runtime\/query_compiler_[a-z_]+bg\.[a-z]+)\.mjs"\)/;
        if (!runtime.test(source)) throw new Error(`${args.path}: the query compiler's runtime import is not the one scripts/build-server.mjs replaces`);
        return { contents: source.replace(loader, replacement).replace(runtime, 'await import("$1.js")'), loader: 'ts' };
      });
    },
  };
}

/**
 * esbuild writes non-ASCII characters as escapes everywhere but in the comments it keeps; one
 * such character (an arrow, a dash) makes V8 hold the whole bundle's source as a two-byte string
 * (8.7 MB instead of 4.3 MB, for the life of the process). Inside comments they are replaced by
 * "?" (one UTF-16 unit each, so the source map's columns still hold).
 */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, '?');
}

/** Rebuilds dist/herald.cjs when any input is newer; returns whether it did. */
export async function buildServer() {
  if (existsSync(bundlePath) && statSync(bundlePath).mtimeMs >= newestInput()) return false;
  // Loaded only when there is work: esbuild starts a helper process of its own.
  const esbuild = await import('esbuild');
  let queryCompiler;
  const { outputFiles } = await esbuild.build({
    entryPoints: [path.join(root, 'src', 'main.ts')],
    outfile: bundlePath,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    charset: 'ascii',
    // import() becomes require(): a vm.Script (scripts/start.mjs) cannot import ES modules without
    // an experimental flag. Every package the bundle imports at run time has a CommonJS build
    // (PGlite, Prisma's runtime and query compiler, the GraphiQL page); one without would fail
    // when imported (the e2e tests start the bundle).
    supported: { 'dynamic-import': false },
    // The sources are ES modules; in a CommonJS bundle import.meta is empty, so its three uses
    // read the bundle's own location instead (the banner defines them).
    define: {
      'import.meta.url': '__heraldImportMetaUrl',
      'import.meta.dirname': '__dirname',
      'import.meta.resolve': '__heraldImportMetaResolve',
    },
    banner: {
      js:
        "const __heraldImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" +
        " const __heraldImportMetaResolve = (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href;",
    },
    plugins: [prismaQueryCompilerFromFile((bytes) => (queryCompiler = bytes))],
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  await esbuild.stop();
  // Written aside and renamed over the old files: servers starting at the same moment (the e2e
  // tests start several) may build together, and none may import half a file. The map and the
  // query compiler first, so a new bundle never points at old ones.
  mkdirSync(path.dirname(bundlePath), { recursive: true });
  const files = [
    ...outputFiles.filter((file) => file.path.endsWith('.map')).map((file) => [file.path, file.contents]),
    [path.join(path.dirname(bundlePath), QUERY_COMPILER_FILE), queryCompiler],
    ...outputFiles.filter((file) => !file.path.endsWith('.map')).map((file) => [file.path, Buffer.from(asciiOnly(file.text), 'latin1')]),
  ];
  for (const [file, contents] of files) {
    if (!contents) throw new Error(`${file}: nothing to write`);
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, contents);
    renameSync(partial, file);
  }
  rmSync(codeCachePath, { force: true });
  // The ES module bundle of earlier versions, so that nobody runs a stale one by mistake.
  rmSync(path.join(root, 'dist', 'herald.js'), { force: true });
  rmSync(path.join(root, 'dist', 'herald.js.map'), { force: true });
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await buildServer()) ? `built ${path.relative(root, bundlePath)}` : `${path.relative(root, bundlePath)} is current`);
}

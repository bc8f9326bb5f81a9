// `npm start` runs one esbuild bundle of src/main.ts and the packages it uses (dist/herald.js),
// not TypeScript through the tsx loader, nor ~1 000 separate ES modules: Node 20 resolves,
// reads and links each module on its own, and importing the server took 1.3 s that way against
// 0.5 s as one file (measured with `node -e "import('./dist/…')"` on this project's machine).
// Left out of the bundle, loaded from node_modules at run time:
// - PGlite and Prisma's runtime, which find their .wasm and .data files beside their own modules;
// - pg, which Prisma's adapter imports too (one copy of it), and whose CommonJS defaults came out
//   wrong when bundled (a startup packet with an object for a string);
// - the GraphiQL page (imported on its first visit, src/http/yoga.ts) and pino-pretty (development
//   logs only, required at run time).
// Paths to prisma/, data/ and dashboard/dist come from src/config/paths.ts, which finds the repository
// by its package.json, so they hold from the bundle as from src/.
//
// scripts/start.mjs calls buildServer() before every start; it does nothing while the bundle is
// newer than every file it is made of (src/, the installed packages, this script).
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const bundlePath = path.join(root, 'dist', 'herald.js');

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

/** Rebuilds dist/herald.js when any input is newer; returns whether it did. */
export async function buildServer() {
  if (existsSync(bundlePath) && statSync(bundlePath).mtimeMs >= newestInput()) return false;
  // Loaded only when there is work: esbuild starts a helper process of its own.
  const esbuild = await import('esbuild');
  const { outputFiles } = await esbuild.build({
    entryPoints: [path.join(root, 'src', 'main.ts')],
    outfile: bundlePath,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS packages inside an ES module bundle still call require() for Node's built-ins
    // and optional packages (ws's bufferutil, pg's pg-native): give them a real one.
    banner: { js: "import { createRequire as __heraldCreateRequire } from 'node:module'; const require = __heraldCreateRequire(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  await esbuild.stop();
  // Written aside and renamed over the old files: servers starting at the same moment (the e2e
  // tests start several) may build together, and none may import half a file. The map first,
  // so a new bundle never points at an old map.
  mkdirSync(path.dirname(bundlePath), { recursive: true });
  for (const file of [...outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')))) {
    const partial = `${file.path}.${process.pid}.partial`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log((await buildServer()) ? `built ${path.relative(root, bundlePath)}` : `${path.relative(root, bundlePath)} is current`);
}

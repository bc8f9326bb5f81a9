// `npm start` runs JavaScript compiled from src/ (dist/), not TypeScript through the tsx loader:
// tsx's loader hooks and transforms cost about a second of every start. esbuild turns each file
// into its own .js beside the others (no bundle), so paths found from import.meta (prisma/,
// dashboard/dist, data/) resolve from dist/ exactly as from src/. scripts/start.mjs calls it
// before every start, so dist/ is never older than src/; files already current are skipped.
// (`npm run build`, tsc, still emits declarations for library use.)
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

/** Compiles the src/ files whose dist/ counterpart is missing or older; returns how many. */
export async function buildServer() {
  const stale = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .filter((file) => {
      const out = path.join(dist, file.replace(/\.ts$/, '.js'));
      return !existsSync(out) || statSync(out).mtimeMs < statSync(path.join(src, file)).mtimeMs;
    });
  if (stale.length === 0) return 0;
  // Loaded only when there is work: esbuild starts a helper process of its own.
  const esbuild = await import('esbuild');
  const { outputFiles } = await esbuild.build({
    entryPoints: stale.map((file) => path.join(src, file)),
    outdir: dist,
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  await esbuild.stop();
  // Each file written aside and renamed over the old one: servers starting at the same moment
  // (the e2e tests start several) may build together, and none may import half a file.
  for (const file of outputFiles) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    const partial = `${file.path}.${process.pid}.partial`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
  return stale.length;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const count = await buildServer();
  console.log(`compiled ${count} file(s) from src/ to dist/`);
}

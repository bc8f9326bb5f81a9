// Builds the console into dashboard/dist: one bundled script (Preact, its router, i18next, uPlot
// and graphql-ws's client included) and one stylesheet (uPlot's included), so the page loads
// nothing from outside Herald (no CDN, works offline).
// Run by scripts/generate.mjs, hence by `npm ci`; also on its own: `node scripts/build-dashboard.mjs`.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dir = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'dashboard');
const out = path.join(dir, 'dist');

export async function buildDashboard() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { main: path.join(dir, 'src', 'main.tsx'), style: path.join(dir, 'style.css') },
    outdir: out,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  copyFileSync(path.join(dir, 'index.html'), path.join(out, 'index.html'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildDashboard();

// Compiles the typed client SDK (src/client, with the documents codegen wrote to
// src/client/generated) to dist/client: the JavaScript and .d.ts files that package.json's
// `herald-gateway/client` export points at, so a consumer needs neither TypeScript nor tsx.
// Also the browser build, dist/client/browser.js: one minified ES module with graphql-ws inside
// and no Node built-ins (package.json's "browser" condition points at it; docs/sdk.md).
// Run by scripts/generate.mjs, hence by `npm ci` and before `npm pack`; also on its own:
// `npm run build:client`.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const clientDist = path.join(root, 'dist', 'client');

export async function buildClient() {
  // tsc never deletes: start empty so a removed module does not linger in the package.
  rmSync(clientDist, { recursive: true, force: true });
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.client.json'], { cwd: root, stdio: 'inherit' });
  return buildBrowserClient();
}

/** Builds dist/client/browser.js; returns its size in bytes, minified and gzipped. */
export async function buildBrowserClient() {
  const outfile = path.join(clientDist, 'browser.js');
  await build({
    entryPoints: [path.join(root, 'src', 'client', 'index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    // `ws` is loaded only where there is no global WebSocket (Node 20), never in a browser: an
    // empty module stands in, so the bundle imports nothing (a page's own bundler finds no `ws`).
    plugins: [
      {
        name: 'no-ws',
        setup(b) {
          b.onResolve({ filter: /^ws$/ }, () => ({ path: 'ws', namespace: 'no-ws' }));
          b.onLoad({ filter: /.*/, namespace: 'no-ws' }, () => ({ contents: 'export default undefined;' }));
        },
      },
    ],
    logLevel: 'warning',
  });
  const code = readFileSync(outfile);
  return { minified: code.length, gzip: gzipSync(code).length };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { minified, gzip } = await buildClient();
  console.log(`dist/client/browser.js: ${(minified / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzipped`);
}

// Compiles the typed client SDK (src/client, with the documents codegen wrote to
// src/client/generated) to dist/client: the JavaScript and .d.ts files that package.json's
// `herald-gateway/client` export points at, so a consumer needs neither TypeScript nor tsx.
// Run by scripts/generate.mjs, hence by `npm ci` and before `npm pack`; also on its own:
// `npm run build:client`.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const clientDist = path.join(root, 'dist', 'client');

export function buildClient() {
  // tsc never deletes: start empty so a removed module does not linger in the package.
  rmSync(clientDist, { recursive: true, force: true });
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.client.json'], { cwd: root, stdio: 'inherit' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) buildClient();

// Produces every generated file from committed sources, so a fresh clone works after
// `npm ci` with nothing done by hand: the Prisma client and Pothos types from
// prisma/schema.prisma, the typed SDK documents from schema.graphql and the SDK compiled to
// dist/client, the embedded database's template, the dashboard's bundle and the server's.
//
// package.json runs it as `prepare`, not `postinstall`: npm runs `prepare` on `npm ci` and
// `npm install` in this repository and before `npm pack`, but not when the packed package is
// installed as a dependency, where the generators (devDependencies) are absent and everything
// generated is already in the tarball.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
// Generators (prisma-pothos-types) are found on PATH, as they are under npm scripts.
const env = { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` };
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env });

run(bin('prisma'), ['generate']);
run(bin('graphql-codegen'), ['--config', 'codegen.ts']);
const { buildClient } = await import('./build-client.mjs');
await buildClient();

// The embedded database's template (src/db/pglite-template.ts): a first `npm start` unpacks it
// instead of running initdb. Optional: without it a start is slower, not broken.
try {
  run(process.execPath, ['--import', 'tsx', 'scripts/build-pgdata-template.ts']);
} catch {
  console.warn('herald: the embedded database template could not be made; a first start will run initdb instead');
}

// npm links the bins of dependencies, not the project's own: link `herald` so that
// `npx herald …` runs this checkout's CLI (and never fetches a package of that name).
const binDir = path.join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
rmSync(path.join(binDir, 'herald'), { force: true });
symlinkSync(path.join('..', '..', 'bin', 'herald.js'), path.join(binDir, 'herald'));
chmodSync(path.join(root, 'bin', 'herald.js'), 0o755);

// The dashboard's static files (dashboard/dist), bundled so /dashboard needs no internet.
const { buildDashboard } = await import('./build-dashboard.mjs');
await buildDashboard();

// The server's bundle (scripts/build-server.mjs), so a first `npm start` need not make it.
const { buildServer } = await import('./build-server.mjs');
await buildServer();

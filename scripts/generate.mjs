// Produces every generated file from committed sources, so a fresh clone works after
// `npm ci` with nothing done by hand: the Prisma client and Pothos types from
// prisma/schema.prisma, and the typed SDK documents from schema.graphql.
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

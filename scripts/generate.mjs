// Produces every generated file from committed sources, so a fresh clone works after
// `npm ci` with nothing done by hand: the Prisma client and Pothos types from
// prisma/schema.prisma, and the typed SDK documents from schema.graphql.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(bin('prisma'), ['generate']);
run(bin('graphql-codegen'), ['--config', 'codegen.ts']);

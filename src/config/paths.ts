// The repository's root, where prisma/, data/ and dashboard/dist live. Found by walking up to
// Herald's own package.json rather than counting folders from each module: the same code runs
// as src/*.ts under tsx, and bundled into one file in dist/ by `npm start`
// (scripts/build-server.mjs), where every module shares one import.meta.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const PACKAGE_NAME = 'herald-gateway';

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}'s package.json not found above ${from}`);
  }
}

export const projectRoot = findProjectRoot(import.meta.dirname);

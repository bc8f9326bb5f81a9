// The documentation and the code's comments point at files of this repository only, and those
// files exist: a move that leaves a stale path behind, or a citation of a file outside the
// repository, fails here with the place it was written.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function filesUnder(dir: string, keep: RegExp): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['generated', 'node_modules', 'dist', 'results'].includes(entry.name) ? [] : filesUnder(relative, keep);
    return keep.test(entry.name) ? [relative] : [];
  });
}

const docs = ['README.md', ...filesUnder('docs', /\.md$/)];
const code = ['src', 'test', 'bench', 'chaos', 'soak', 'scripts', 'dashboard/src'].flatMap((dir) => filesUnder(dir, /\.(ts|mjs)$/));

/** Repository paths written in a text: `src/...`, `docs/...`, `test/...` and the like. */
function repoPathsIn(text: string): string[] {
  return [...text.matchAll(/(?<![\w./@-])((?:src|docs|test|bench|chaos|soak|scripts|prisma|dashboard)\/[\w./-]*\w)/g)].map((m) => m[1]!);
}

describe('references between files', () => {
  it('reads the docs and the code (not vacuously)', () => {
    expect(docs.length).toBeGreaterThan(10);
    expect(code.length).toBeGreaterThan(200);
  });

  it('every repository path in README and docs/ exists', () => {
    const missing = docs.flatMap((file) =>
      repoPathsIn(readFileSync(path.join(root, file), 'utf8'))
        .filter((ref) => !ref.includes('*') && !ref.startsWith('bench/results') && !ref.startsWith('chaos/results') && !ref.startsWith('soak/results') && !existsSync(path.join(root, ref)))
        .map((ref) => `${file}: ${ref}`),
    );
    expect(missing).toEqual([]);
  });

  it('every relative Markdown link in README and docs/ resolves', () => {
    const broken = docs.flatMap((file) =>
      [...readFileSync(path.join(root, file), 'utf8').matchAll(/\]\((?!https?:|#|mailto:)([^)\s#]+)(?:#[^)]*)?\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !existsSync(path.join(root, path.dirname(file), target)))
        .map((target) => `${file}: ${target}`),
    );
    expect(broken).toEqual([]);
  });

  it('no file cites a file outside the repository', () => {
    const outside = [...docs, ...code, 'prisma.config.ts', 'vitest.config.ts', 'codegen.ts'].flatMap((file) =>
      readFileSync(path.join(root, file), 'utf8')
        .split('\n')
        .flatMap((line, index) => (/(?<![\w/])(API|STACK|STYLE)\.md|\.\.\/shared\/|\bshared\/\w+\.md/.test(line) ? [`${file}:${index + 1}`] : [])),
    );
    expect(outside.filter((place) => !place.startsWith('test/unit/docs-references.test.ts'))).toEqual([]);
  });

  it('every repository path in a code comment exists', () => {
    const missing = code.flatMap((file) =>
      readFileSync(path.join(root, file), 'utf8')
        .split('\n')
        .filter((line) => /^\s*(\/\/|\*|\/\*)/.test(line))
        .flatMap((line) => repoPathsIn(line))
        .filter((ref) => /\.\w+$/.test(ref) && !ref.includes('NN-') && !ref.includes('results/') && !existsSync(path.join(root, ref)))
        .map((ref) => `${file}: ${ref}`),
    );
    expect(missing).toEqual([]);
  });
});

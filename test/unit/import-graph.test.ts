// The structure of src/ as a test: no import cycles between files (type-only imports count: a
// cycle through types still ties the files together), and imports point down the layers that
// docs/architecture.md describes. A new cycle or a new upward import fails the run and names
// the files, so the structure cannot drift back without someone deciding it should.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const srcDir = path.join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(full);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** file (relative to src/) → the files of src/ it imports (relative to src/). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(srcDir)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'))
      .filter((target) => target.startsWith(srcDir) && !target.includes(`${path.sep}generated${path.sep}`))
      .map((target) => path.relative(srcDir, target));
    graph.set(path.relative(srcDir, file), [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

/**
 * The layers of src/, bottom first: a folder (or top-level file) may import its own layer's and
 * lower layers' code. docs/architecture.md explains each. Folders of one layer must not import
 * each other in a circle either (checked below with the folder graph).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['config', 'client'], // settings parsed once; the SDK, which imports nothing of the server
  ['logging', 'domain'], // pure rules and types; the logger
  ['concurrency', 'metrics', 'security', 'limits', 'pubsub'], // small primitives and infrastructure
  ['db'], // opening and migrating the database
  ['providers'], // one adapter per vendor behind one interface
  ['store'], // every SQL statement and hot-path query
  ['outgoing-webhooks'], // the outbox and its delivery worker
  ['services', 'dispatch'], // features (send, templates, compliance, inbound, verification, keys) and delivery
  ['provider-callbacks'], // providers' HTTP callbacks into services and dispatch
  ['schema'], // GraphQL: thin resolvers over services
  ['http', 'cli'], // the edges: HTTP routes, Yoga, graphql-ws; the command line
  ['app', 'main.ts'], // start-up: wires everything, and the process entry
];

/**
 * Imports that knowingly point up a layer, each with its reason. A new one fails the test: move
 * the code to the right layer, or add it here with a reason a reviewer accepts.
 */
const ALLOWED_UPWARD: Record<string, string> = {
  // The `herald worker` command runs the same runtime as the server, without HTTP.
  'cli/worker.ts -> app/runtime.ts': 'the worker command starts the runtime',
};

const roomOf = (file: string) => file.split('/')[0]!;
const layerOf = (file: string) => LAYERS.findIndex((layer) => layer.includes(roomOf(file)));

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('is read (the check would pass vacuously on an empty graph)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('main.ts')?.length).toBeGreaterThan(0);
  });

  it('finds a cycle when there is one (the check itself can fail)', () => {
    const looped = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
    expect(cycles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('places every folder of src/ in a layer', () => {
    expect([...new Set([...graph.keys()].map(roomOf))].filter((room) => layerOf(room) < 0)).toEqual([]);
  });

  it('has no cycles between folders', () => {
    const folders = new Map<string, string[]>();
    for (const [file, targets] of graph) {
      const from = roomOf(file);
      const to = targets.map(roomOf).filter((room) => room !== from);
      folders.set(from, [...new Set([...(folders.get(from) ?? []), ...to])]);
    }
    expect(cycles(folders)).toEqual([]);
  });

  it('imports only down the layers (but for the few allowed, each with its reason)', () => {
    const upward = [...graph].flatMap(([file, targets]) => targets.filter((target) => layerOf(target) > layerOf(file)).map((target) => `${file} -> ${target}`));
    expect(upward.filter((edge) => !(edge in ALLOWED_UPWARD))).toEqual([]);
    // Each allowed one still exists (else drop it from the list): the check sees real edges.
    expect(upward.sort()).toEqual(Object.keys(ALLOWED_UPWARD).sort());
    expect(Object.keys(ALLOWED_UPWARD).length).toBeLessThanOrEqual(3);
  });
});

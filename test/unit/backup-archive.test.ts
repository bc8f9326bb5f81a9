// src/db/backup-archive.ts: a directory through tar and back unchanged; a tarball that names a
// path outside the target, or holds a link, is refused.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTree, extractInto, packDirectory } from '../../src/db/backup-archive.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'herald-archive-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const rel = path.relative(dir, path.join(entry.parentPath, entry.name));
    out[rel] = entry.isFile() ? (await readFile(path.join(dir, rel))).toString('base64') : '<dir>';
  }
  return out;
}

function tarOf(entries: { name: string; type?: 'file' | 'symlink' | 'directory'; body?: string; linkname?: string }[]): Readable {
  const tar = pack();
  for (const e of entries) tar.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
  tar.finalize();
  return tar as unknown as Readable;
}

describe('backup archive', () => {
  it('copies and packs a directory, skipping the named files, and unpacks it unchanged', async () => {
    const source = path.join(work, 'source');
    await mkdir(path.join(source, 'base', '5'), { recursive: true });
    await mkdir(path.join(source, 'pg_wal', 'archive_status'), { recursive: true });
    await writeFile(path.join(source, 'PG_VERSION'), '17\n');
    await writeFile(path.join(source, 'postmaster.pid'), '-42\n');
    await writeFile(path.join(source, 'base', '5', '1259'), Buffer.alloc(3 * 8192 + 17, 7));
    const copy = path.join(work, 'copy');
    await copyTree(source, copy, new Set(['postmaster.pid']));
    const expected = await tree(source);
    delete expected['postmaster.pid'];
    expect(await tree(copy)).toEqual(expected);

    const unpacked = path.join(work, 'unpacked');
    await extractInto(packDirectory(copy), unpacked);
    expect(await tree(unpacked)).toEqual(expected);
    expect(expected['pg_wal/archive_status']).toBe('<dir>'); // empty directories survive
  });

  it('refuses names outside the target and links, without writing outside it', async () => {
    for (const [label, entries] of [
      ['a parent path', [{ name: 'PG_VERSION', body: '17' }, { name: '../escaped', body: 'x' }]],
      ['an absolute path', [{ name: '/tmp/escaped-absolute', body: 'x' }]],
      ['a symlink', [{ name: 'link', type: 'symlink' as const, linkname: '/etc/passwd' }]],
    ] as const) {
      const target = path.join(work, `bad-${label.replace(/ /g, '-')}`);
      await expect(extractInto(tarOf([...entries]), target), label).rejects.toThrow(/outside the data directory|holds a symlink/);
    }
    expect((await readdir(work)).filter((name) => name.startsWith('escaped'))).toEqual([]);
  });
});

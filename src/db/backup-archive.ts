// A data directory to a tar stream and back (tar-stream does the format), plus the quick copy a
// backup takes of the live directory while the database waits.
import { constants, createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';

/**
 * Copies `from` into a new directory `to`, every file queued at once on libuv's threads (the
 * operating system's copy, a copy-on-write clone where the file system offers one). Why not
 * PGlite's dumpDataDir: it reads every file through its emulated file system into memory and
 * builds the tarball there, all while holding the database: 30 s for 100 000 messages on our
 * 2-core machine, against about a second for this copy (docs/operations.md, "Backup and restore").
 */
export async function copyTree(from: string, to: string, skip: ReadonlySet<string>): Promise<void> {
  const entries = (await readdir(from, { recursive: true, withFileTypes: true })).filter((e) => !skip.has(relative(from, e)));
  await mkdir(to);
  for (const entry of entries) if (entry.isDirectory()) await mkdir(path.join(to, relative(from, entry)), { recursive: true });
  await Promise.all(entries.filter((e) => e.isFile()).map((e) => copyFile(path.join(from, relative(from, e)), path.join(to, relative(from, e)), constants.COPYFILE_FICLONE)));
}

const relative = (root: string, entry: Dirent) => path.relative(root, path.join(entry.parentPath, entry.name));

/** `dir`'s directories and files as a tar stream, names relative to `dir`. */
export function packDirectory(dir: string): Readable {
  const tar = pack();
  void (async () => {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    // Directories before their files, in a stable order.
    entries.sort((a, b) => relative(dir, a).localeCompare(relative(dir, b)));
    for (const entry of entries) {
      const name = relative(dir, entry).split(path.sep).join('/');
      if (entry.isDirectory()) {
        await new Promise<void>((resolve, reject) => tar.entry({ name, type: 'directory', mode: 0o755 }, (error) => (error ? reject(error) : resolve())));
      } else if (entry.isFile()) {
        const full = path.join(dir, relative(dir, entry));
        const { size } = await stat(full);
        await new Promise<void>((resolve, reject) => {
          const sink = tar.entry({ name, size, type: 'file', mode: 0o644 }, (error) => (error ? reject(error) : resolve()));
          pipeline(createReadStream(full), sink).catch(reject);
        });
      }
    }
    tar.finalize();
  })().catch((error: Error) => tar.destroy(error));
  return tar as unknown as Readable;
}

/**
 * Unpacks a tar stream into `dir` (made here). Only plain files and directories inside `dir`
 * are accepted: a backup file is checked against its own manifest, which proves it whole but
 * not who made it, so a name leaving `dir` or a link is refused rather than followed.
 */
export async function extractInto(source: Readable, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tar = extract();
  const done = (async () => {
    for await (const entry of tar) {
      const { name, type } = entry.header;
      const target = path.resolve(dir, name);
      if (!target.startsWith(dir + path.sep) && target !== dir) throw new Error(`the archive names a path outside the data directory: ${name}`);
      if (type === 'directory') {
        await mkdir(target, { recursive: true });
        entry.resume();
      } else if (type === 'file') {
        await mkdir(path.dirname(target), { recursive: true });
        await pipeline(entry as unknown as Readable, createWriteStream(target));
      } else {
        throw new Error(`the archive holds a ${type} (${name}); a data directory holds files and directories only`);
      }
    }
  })();
  // A refused entry stops the unpacking (and the file's stream) at once.
  done.catch((error: Error) => tar.destroy(error));
  await Promise.all([pipeline(source, tar as unknown as NodeJS.WritableStream), done]);
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, openDatabaseEarly, type Database } from '../../src/db/database.js';

const opened: Database[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('opening the embedded database early (npm start)', () => {
  it('hands the database it opened to the next openDatabase for the same directory, once', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herald-early-'));
    dirs.push(dataDir);
    openDatabaseEarly({ databaseUrl: undefined, dataDir, holder: 'early test' });
    // The lock is taken before openDatabaseEarly returns: nothing else can start on this directory.
    expect(JSON.parse(await readFile(path.join(dataDir, 'herald.lock'), 'utf8'))).toEqual({ pid: process.pid, holder: 'early test' });
    const db = await openDatabase({ databaseUrl: undefined, dataDir, holder: 'herald server' });
    opened.push(db);
    expect(db.kind).toBe('pglite');
    expect(await db.prisma.account.count()).toBe(0);
    // Another directory is not the one opened early: it is opened on its own.
    const other = await openDatabase({ databaseUrl: undefined, dataDir: '/nonexistent', pgliteDataDir: 'memory://', holder: 'test' });
    opened.push(other);
    expect(other.pglite).not.toBe(db.pglite);
  });

  it('reports a failure of the early open from openDatabase', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herald-early-'));
    dirs.push(dataDir);
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(dataDir, 'herald.lock'), JSON.stringify({ pid: 1, holder: 'init' })));
    openDatabaseEarly({ databaseUrl: undefined, dataDir, holder: 'early test' });
    await expect(openDatabase({ databaseUrl: undefined, dataDir, holder: 'herald server' })).rejects.toThrow(/in use by init \(pid 1\)/);
  });
});

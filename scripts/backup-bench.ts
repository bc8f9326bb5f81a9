// The size and time of `herald backup` / `herald restore` for an embedded database holding N
// delivered messages (default 100 000), each with its three events (QUEUED, SENT, DELIVERED).
// Usage: npx tsx scripts/backup-bench.ts [--messages N] [--keep]
//
// Messages are seeded with SQL (generate_series), not through the API: the figure wanted is the
// backup's, and 100 000 sends through GraphQL would take minutes of their own. The backup and the
// restore then run as the real CLI (bin/herald.js) in child processes, timed from outside.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyTree } from '../src/db/backup-archive.js';
import { openDatabase } from '../src/db/database.js';
import { projectRoot } from '../src/config/paths.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' }, keep: { type: 'boolean', default: false } } });
const total = Number(values.messages);
if (!Number.isSafeInteger(total) || total < 1) throw new Error('--messages must be a positive integer');
const BATCH = 10_000;

const work = await mkdtemp(path.join(tmpdir(), 'herald-backup-bench-'));
const dataDir = path.join(work, 'data');
const file = path.join(work, 'herald.backup');

const db = await openDatabase({ databaseUrl: undefined, dataDir, holder: 'backup bench' });
const pglite = db.pglite!;
const seedStarted = performance.now();
const account = (await pglite.query<{ id: string }>(`INSERT INTO "Account" (id, name) VALUES (gen_random_uuid(), 'bench') RETURNING id`)).rows[0]!.id;
for (let from = 0; from < total; from += BATCH) {
  const to = Math.min(total, from + BATCH);
  // Bodies of realistic length (~60 characters) that differ per message, as real traffic does.
  await pglite.query(
    `WITH m AS (
       INSERT INTO "Message" (id, "accountId", "to", body, encoding, segments, status, provider, "providerMessageId", "createdAt", "updatedAt", "sentAt", "deliveredAt")
       SELECT gen_random_uuid(), $1, '+1415' || lpad(i::text, 7, '0'), 'Your order ' || i || ' has shipped; track it at https://example.com/t/' || md5(i::text),
              'GSM7', 1, 'DELIVERED', 'simulator', md5('p' || i), now(), now(), now(), now()
       FROM generate_series($2::int, $3::int) AS i
       RETURNING id
     )
     INSERT INTO "MessageEvent" ("messageId", status, source, provider)
     SELECT m.id, s.status::"MessageStatus", 'dispatcher', 'simulator' FROM m CROSS JOIN (VALUES ('QUEUED'), ('SENT'), ('DELIVERED')) AS s(status)`,
    [account, from + 1, to],
  );
}
const seedSeconds = (performance.now() - seedStarted) / 1000;
// What a running server's database waits for during `herald backup` (src/db/backup.ts
// writeBackup): the copy of the data directory under PGlite's lock.
await pglite.exec('CHECKPOINT');
const lockStarted = performance.now();
await pglite.runExclusive(() => copyTree(path.join(dataDir, 'pgdata'), path.join(work, 'copy'), new Set()));
const lockSeconds = (performance.now() - lockStarted) / 1000;
await rm(path.join(work, 'copy'), { recursive: true });
// The same under PGlite's own dumpDataDir, for comparison (it holds the lock while it builds
// the whole tarball in memory).
const dumpStarted = performance.now();
await pglite.dumpDataDir('none');
const dumpSeconds = (performance.now() - dumpStarted) / 1000;
await db.close();

const dataDirBytes = await directoryBytes(path.join(dataDir, 'pgdata'));
const backup = timed(['backup', file], dataDir);
const fileBytes = (await stat(file)).size;
const restore = timed(['restore', file], path.join(work, 'restored'));

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
console.log(`messages                 ${total} (and ${total * 3} events), seeded in ${seedSeconds.toFixed(1)} s`);
console.log(`data directory (pgdata)  ${mb(dataDirBytes)}`);
console.log(`database paused for      ${lockSeconds.toFixed(2)} s (the copy under PGlite's lock; PGlite's dumpDataDir would hold it ${dumpSeconds.toFixed(1)} s)`);
console.log(`backup file              ${mb(fileBytes)}`);
console.log(`herald backup            ${backup.toFixed(1)} s (CLI process, start to exit)`);
console.log(`herald restore           ${restore.toFixed(1)} s (CLI process, start to exit)`);
if (values.keep) console.log(`kept in ${work}`);
else await rm(work, { recursive: true, force: true });

function timed(args: string[], dir: string): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, [path.join(projectRoot, 'bin/herald.js'), ...args], { env: { ...process.env, DATA_DIR: dir, DATABASE_URL: '' }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`herald ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
  return (performance.now() - started) / 1000;
}

async function directoryBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) sum += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return sum;
}

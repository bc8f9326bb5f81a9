// The audit log as stored (model AuditEntry). Only two statements exist: append and read. There
// is no update or delete here, nor anywhere else: the table's triggers refuse both (migration
// audit_log), so an entry once committed stays as written.
import type { Prisma } from '../generated/prisma/client.js';
import type { AuditRow } from '../domain/audit.js';
import type { Db } from './db-client.js';

/** An entry to append: a row as read, less what the database assigns, plus the number's keyed hash. */
export type NewAuditEntry = Omit<AuditRow, 'seq' | 'at'> & { phoneHash: string | null };

/** Appends one entry on `db` (pass the transaction of the change it describes). */
export async function appendAuditEntry(db: Db, entry: NewAuditEntry): Promise<void> {
  await db.auditEntry.create({ data: { ...entry, before: json(entry.before), after: json(entry.after) } });
}

/** A key's name, as the entry keeps it (the key may be renamed or gone later). */
export async function keyNameOf(db: Db, keyId: string): Promise<string | null> {
  return (await db.apiKey.findUnique({ where: { id: keyId }, select: { name: true } }))?.name ?? null;
}

export type AuditWhere = Prisma.AuditEntryWhereInput;

/** Entries newest first: `take` of them, after (older than) `beforeSeq` when given. */
export async function readAuditEntries(db: Db, where: AuditWhere, page: { take: number; beforeSeq?: bigint; afterSeq?: bigint; oldestFirst?: boolean }): Promise<AuditRow[]> {
  const seq = { ...(page.beforeSeq !== undefined && { lt: page.beforeSeq }), ...(page.afterSeq !== undefined && { gt: page.afterSeq }) };
  return db.auditEntry.findMany({
    where: { AND: [where, ...(Object.keys(seq).length ? [{ seq }] : [])] },
    orderBy: { seq: page.oldestFirst ? 'asc' : 'desc' },
    take: page.take,
    select: { seq: true, at: true, accountId: true, keyId: true, keyName: true, action: true, subjectType: true, subjectId: true, before: true, after: true, requestId: true },
  });
}

function json(value: unknown): Prisma.InputJsonValue | undefined {
  return value === undefined || value === null ? undefined : (value as Prisma.InputJsonValue);
}

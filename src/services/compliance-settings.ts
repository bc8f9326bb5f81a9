// An account's compliance settings as ADMIN keys change them: sensitive-word rules and the
// settings row (frequency limits, OTP rules, keyword replies). Each write commits with its audit
// entry; the caller drops the account's cached compliance afterwards.
import type { PrismaClient } from '../db/database.js';
import type { Prisma, SensitiveRuleKind } from '../generated/prisma/client.js';
import { recordAudit, type AuditActor } from './audit.js';

/** Adds a rule unless it is there (concurrent adds of one word both succeed; only the first is audited). */
export async function addSensitiveWordRule(prisma: PrismaClient, key: { accountId: string; kind: SensitiveRuleKind; word: string }, actor: AuditActor) {
  return prisma.$transaction(async (tx) => {
    // Not upsert, which reads then inserts: concurrent adds of one word failed with a unique violation.
    const added = await tx.sensitiveWordRule.createMany({ data: [key], skipDuplicates: true });
    if (added.count) await recordAudit(tx, actor, { action: 'sensitiveWord.add', subjectId: `${key.kind}:${key.word}`, after: { kind: key.kind, word: key.word } });
    return tx.sensitiveWordRule.findUniqueOrThrow({ where: { accountId_kind_word: key } });
  });
}

/** Removes the rules named; how many there were. */
export async function removeSensitiveWordRules(prisma: PrismaClient, accountId: string, kind: SensitiveRuleKind, words: string[], actor: AuditActor): Promise<number> {
  if (!words.length) return 0;
  return prisma.$transaction(async (tx) => {
    const removed = await tx.sensitiveWordRule.deleteMany({ where: { accountId, kind, word: { in: words } } });
    if (removed.count) await recordAudit(tx, actor, { action: 'sensitiveWord.remove', subjectId: `${kind}:${words[0]}`, before: { kind, words } });
    return removed.count;
  });
}

type SettingsData = Omit<Prisma.AccountSettingsUncheckedCreateInput, 'accountId'>;

/** Writes the settings given (validated by the caller); the entry holds those columns before and after. */
export async function updateAccountSettings(prisma: PrismaClient, accountId: string, data: SettingsData, actor: AuditActor): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.accountSettings.findUnique({ where: { accountId } });
    const after = await tx.accountSettings.upsert({ where: { accountId }, create: { accountId, ...data }, update: data });
    const columns = Object.keys(data) as (keyof typeof after)[];
    const pick = (row: typeof after | null) => (row ? Object.fromEntries(columns.map((c) => [c, row[c]])) : null);
    await recordAudit(tx, actor, { action: 'settings.update', subjectId: accountId, before: pick(before), after: pick(after) });
  });
}

// The numbers and sender ids an account sends from. A value belongs to one account only, since
// inbound messages to a number are routed to its owner (schema.prisma: SenderIdentity.value is
// unique across accounts).
import type { PrismaClient } from '../db/database.js';
import { NotFoundError, ValidationError, type HeraldError } from '../domain/errors.js';
import { parseSenderIdentity } from '../domain/sender-identity.js';
import type { SenderIdentity } from '../generated/prisma/client.js';
import { announceChange } from '../store/invalidation.js';
import { recordAudit, type AuditActor } from './audit.js';

export interface AddSenderIdentityInput {
  value: string;
  provider?: string | null;
  isDefault?: boolean | null;
}

export interface SenderIdentityOptions {
  defaultCountry?: string | undefined;
  /** Configured provider names; an identity names one of them, or none (any provider). */
  providers: readonly string[];
}

// The same words for "someone else has it" and "a race made someone else have it": the
// caller must not learn which account owns a value, or even that it is a different one.
const TAKEN = 'is already registered and cannot be added to this account';

/**
 * Adds an identity to the account. Adding one the account already has returns it, with
 * `provider` and `isDefault` updated as given. At most one identity is the default.
 */
export async function addSenderIdentity(
  prisma: PrismaClient,
  accountId: string,
  input: AddSenderIdentityInput,
  options: SenderIdentityOptions,
  audit?: AuditActor,
): Promise<SenderIdentity | HeraldError> {
  const parsed = parseSenderIdentity(input.value, options.defaultCountry);
  const provider = input.provider?.trim() || null;
  const issues = parsed instanceof ValidationError ? [...parsed.issues] : [];
  if (provider && !options.providers.includes(provider)) {
    issues.push({ path: ['provider'], message: `is not a configured provider (configured: ${options.providers.join(', ')})` });
  }
  if (issues.length || parsed instanceof ValidationError) return new ValidationError(issues);

  const data = { provider, ...(input.isDefault != null && { isDefault: input.isDefault }) };
  try {
    const added = await prisma.$transaction(async (tx) => {
      const existing = await tx.senderIdentity.findUnique({ where: { value: parsed.value } });
      if (existing && existing.accountId !== accountId) return new ValidationError([{ path: ['value'], message: TAKEN }]);
      if (input.isDefault) await tx.senderIdentity.updateMany({ where: { accountId, isDefault: true }, data: { isDefault: false } });
      const saved = existing
        ? await tx.senderIdentity.update({ where: { id: existing.id }, data })
        : await tx.senderIdentity.create({ data: { accountId, value: parsed.value, kind: parsed.kind, ...data } });
      // A number is kept masked (redactForAudit) and found again by its keyed hash.
      if (audit) {
        await recordAudit(tx, audit, {
          action: 'senderIdentity.add',
          subjectId: saved.id,
          before: existing && shownIdentity(existing),
          after: shownIdentity(saved),
          ...(saved.kind === 'NUMBER' && { phone: saved.value }),
        });
      }
      return saved;
    });
    // Sends read the account's identities from memory (store/sender-identities.ts).
    if (!(added instanceof ValidationError)) await announceChange(prisma, 'sender-identities', accountId);
    return added;
  } catch (error) {
    // Another account added the same value between our read and our insert.
    if ((error as { code?: string }).code === 'P2002') return new ValidationError([{ path: ['value'], message: TAKEN }]);
    throw error;
  }
}

export async function removeSenderIdentity(prisma: PrismaClient, accountId: string, id: string, audit?: AuditActor): Promise<{ id: string } | NotFoundError> {
  const removed = await prisma.$transaction(async (tx) => {
    const existing = await tx.senderIdentity.findFirst({ where: { id, accountId } });
    if (!existing) return false;
    await tx.senderIdentity.delete({ where: { id } });
    if (audit) await recordAudit(tx, audit, { action: 'senderIdentity.remove', subjectId: id, before: shownIdentity(existing), ...(existing.kind === 'NUMBER' && { phone: existing.value }) });
    return true;
  });
  if (!removed) return new NotFoundError('sender identity');
  await announceChange(prisma, 'sender-identities', accountId);
  return { id };
}


/** What the audit log keeps of an identity (a number is masked when recorded). */
function shownIdentity(i: SenderIdentity) {
  return { kind: i.kind, value: i.value, provider: i.provider, isDefault: i.isDefault };
}

// The API's side of the opt-out list: numbers as clients give them, normalised to E.164. A
// change through the API is audited (the number masked, found again by its keyed hash); one a
// handset made (STOP) is not an administrative action and is not.
import type { PrismaClient } from '../db/database.js';
import type { HeraldError } from '../domain/errors.js';
import { NotFoundError } from '../domain/errors.js';
import { maskPhoneNumber } from '../domain/phone-mask.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import type { OptOutStore } from '../store/opt-outs.js';
import { recordAudit, type AuditActor } from './audit.js';

type CountryCode = Parameters<typeof normalizePhoneNumber>[1];

/** Where an API change is audited: the client its transaction runs on, and who acts. */
export interface AuditedBy {
  prisma: PrismaClient;
  actor: AuditActor;
}

/** Adds a number to the account's opt-out list (idempotent: only a new entry is audited). */
export async function addOptOut(optOuts: OptOutStore, accountId: string, phone: string, options: { defaultCountry?: string; source?: string; audit?: AuditedBy } = {}) {
  const parsed = normalizePhoneNumber(phone, options.defaultCountry as CountryCode);
  if (!parsed.ok) return parsed.error;
  const source = options.source ?? 'API';
  const audit = options.audit;
  if (!audit) return optOuts.add(accountId, parsed.e164, source);
  return audit.prisma.$transaction(async (tx) => {
    const existed = await tx.optOut.findUnique({ where: { accountId_phone: { accountId, phone: parsed.e164 } }, select: { phone: true } });
    const row = await optOuts.add(accountId, parsed.e164, source, tx);
    if (!existed) await recordAudit(tx, audit.actor, { action: 'optOut.add', subjectId: maskPhoneNumber(parsed.e164), phone: parsed.e164, after: { phone: parsed.e164, source } });
    return row;
  });
}

export async function removeOptOut(
  optOuts: OptOutStore,
  accountId: string,
  phone: string,
  options: { defaultCountry?: string; audit?: AuditedBy } = {},
): Promise<{ phone: string } | HeraldError> {
  const parsed = normalizePhoneNumber(phone, options.defaultCountry as CountryCode);
  if (!parsed.ok) return parsed.error;
  const audit = options.audit;
  const removed = audit
    ? await audit.prisma.$transaction(async (tx) => {
        const removed = await optOuts.remove(accountId, parsed.e164, tx);
        if (removed) await recordAudit(tx, audit.actor, { action: 'optOut.remove', subjectId: maskPhoneNumber(parsed.e164), phone: parsed.e164, before: { phone: parsed.e164 } });
        return removed;
      })
    : await optOuts.remove(accountId, parsed.e164);
  return removed ? { phone: parsed.e164 } : new NotFoundError(`opt-out for ${parsed.e164}`);
}

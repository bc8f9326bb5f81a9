import { isOptedOut } from './grouped-lookups.js';
import type { PrismaClient } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { HeraldError } from '../domain/errors.js';
import { NotFoundError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';

type CountryCode = Parameters<typeof normalizePhoneNumber>[1];
// Inside a transaction too: an inbound STOP is stored and applied atomically (services/inbound.ts).
type Db = PrismaClient | Prisma.TransactionClient;

/** Adds a number to the account's opt-out list (idempotent). */
export async function addOptOut(prisma: Db, accountId: string, phone: string, options: { defaultCountry?: string; source?: string } = {}) {
  const parsed = normalizePhoneNumber(phone, options.defaultCountry as CountryCode);
  if (!parsed.ok) return parsed.error;
  // Not upsert: on a compound key Prisma reads then inserts, so concurrent adds of one number
  // failed with a unique violation. ON CONFLICT DO NOTHING also leaves a caller's transaction usable.
  await prisma.optOut.createMany({ data: [{ accountId, phone: parsed.e164, source: options.source ?? 'API' }], skipDuplicates: true });
  return prisma.optOut.findUniqueOrThrow({ where: { accountId_phone: { accountId, phone: parsed.e164 } } });
}

export async function removeOptOut(prisma: Db, accountId: string, phone: string, options: { defaultCountry?: string } = {}): Promise<{ phone: string } | HeraldError> {
  const parsed = normalizePhoneNumber(phone, options.defaultCountry as CountryCode);
  if (!parsed.ok) return parsed.error;
  const removed = await prisma.optOut.deleteMany({ where: { accountId, phone: parsed.e164 } });
  return removed.count ? { phone: parsed.e164 } : new NotFoundError(`opt-out for ${parsed.e164}`);
}

/** Which of these E.164 numbers opted out of the account (one query for a whole batch). */
export async function findOptedOut(prisma: PrismaClient, accountId: string, phones: string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  // A single send joins the other single sends of the moment; a bulk send asks once for all.
  if (phones.length === 1) return (await isOptedOut(prisma, accountId, phones[0]!)) ? new Set(phones) : new Set();
  const rows = await prisma.optOut.findMany({ where: { accountId, phone: { in: [...new Set(phones)] } }, select: { phone: true } });
  return new Set(rows.map((r) => r.phone));
}

// Erasure of a recipient's data on request (GDPR art. 17, PIPL art. 47): within one account,
// every message to the number keeps its metadata (status, timeline, cost) but loses the number
// and the body; replies from it, its verifications and the webhook deliveries that named it are
// deleted; an opt-out stays, as a keyed hash, so a STOP is still honoured. One transaction with
// its audit entry (which keeps the number masked and hashed only). What the logs hold is masked
// already (logging/log-scrub.ts).
import type { PrismaClient } from '../db/database.js';
import { PHONE_HASH_KEY_SETTING, phoneHash } from '../domain/audit.js';
import { anonymisedNumber, ERASED_OPT_OUT_PREFIX } from '../domain/erasure.js';
import type { InvalidPhoneNumberError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { maskPhoneNumber } from '../domain/phone-mask.js';
import { eraseRecipient, type ErasureCounts } from '../store/erasure.js';
import type { SecretStore } from '../store/secrets.js';
import { recordAudit, type AuditActor } from './audit.js';

export interface ErasureReport extends ErasureCounts {
  /** The number erased, masked (+86 138****8000). */
  phone: string;
}

type CountryCode = Parameters<typeof normalizePhoneNumber>[1];

export async function eraseRecipientData(
  deps: { prisma: PrismaClient; secrets: SecretStore },
  accountId: string,
  phone: string,
  options: { defaultCountry?: string; audit?: AuditActor } = {},
): Promise<ErasureReport | InvalidPhoneNumberError> {
  const parsed = normalizePhoneNumber(phone, options.defaultCountry as CountryCode);
  if (!parsed.ok) return parsed.error;
  const e164 = parsed.e164;
  const key = Buffer.from(await deps.secrets.getOrCreate(PHONE_HASH_KEY_SETTING), 'hex');
  const replacement = { number: anonymisedNumber(e164), optOut: `${ERASED_OPT_OUT_PREFIX}${phoneHash(key, e164)}` };
  return deps.prisma.$transaction(async (tx) => {
    const counts = await eraseRecipient(tx, accountId, e164, replacement);
    const report = { phone: maskPhoneNumber(e164), ...counts };
    if (options.audit) await recordAudit(tx, options.audit, { action: 'recipient.erase', subjectId: report.phone, phone: e164, after: counts });
    return report;
  });
}

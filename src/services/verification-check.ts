// checkVerification: the account's latest verification to the number, locked, decided by the
// pure rules (src/domain/verification.ts) and updated in one transaction.
import { HeraldError, ValidationError, VerificationFailedError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { codeMatches, decideCheck, parseSubmittedCode } from '../domain/verification.js';
import type { Store } from '../store/store.js';
import { getVerificationKey } from './secrets.js';

export interface CheckVerificationInput {
  to: string;
  code: string;
}

/**
 * Approves the latest verification to `to` when `code` is its code, else says why not. Two
 * concurrent checks of one verification run one after the other: the row is locked
 * (SELECT … FOR UPDATE), so the second sees the first's attempt (or approval) before deciding,
 * and one code approves at most once.
 */
export async function checkVerification(
  store: Pick<Store, 'prisma' | 'secrets' | 'verificationLocks'>,
  accountId: string,
  input: CheckVerificationInput,
  options: { now: Date; defaultCountry?: string | undefined },
): Promise<{ verificationId: string } | HeraldError> {
  const code = parseSubmittedCode(input.code ?? '');
  const phone = normalizePhoneNumber(input.to ?? '', options.defaultCountry as never);
  if (code instanceof ValidationError) {
    if (!phone.ok) code.issues.push({ path: ['input', 'to'], message: phone.error.message });
    return code;
  }
  if (!phone.ok) return phone.error;
  const key = await getVerificationKey(store.secrets);

  return store.prisma.$transaction(async (tx) => {
    // Not filtered on status: the latest verification's own state says why a check fails
    // (EXPIRED, MAX_ATTEMPTS_REACHED), and an approved latest one means "nothing pending".
    const locked = await store.verificationLocks.lockLatest(tx, accountId, phone.e164);
    const row = locked ? await tx.verification.findUniqueOrThrow({ where: { id: locked } }) : undefined;
    const matches = row ? codeMatches(key, row.id, code, row.codeHash) : false;
    const decision = decideCheck(row, matches, options.now);
    if (row && decision.update) await tx.verification.update({ where: { id: row.id }, data: decision.update });
    if (decision.outcome === 'FAILED') return new VerificationFailedError(decision.reason, decision.attemptsLeft);
    return { verificationId: row!.id };
  });
}

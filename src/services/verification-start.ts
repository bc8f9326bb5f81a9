// startVerification: checks, a Verification row holding only the code's keyed hash, then the
// code sent as an ordinary message through the send pipeline (screening, opt-outs with the
// OTP exemption, OTP frequency limits).
//
// Order of work, and why:
// 1. One transaction, under advisory locks on the number and on its range, counts earlier
//    codes (resend cool-down, per-number window, range velocity) and inserts the new row. The
//    row is the reservation: a concurrent start to the same number or range waits for the
//    lock, then counts it. The send cannot run inside this transaction (the pipeline uses the
//    client, and PGlite has one connection).
// 2. The message is sent. If the pipeline refuses it, the row is deleted: a code that was
//    never sent counts for nothing and replaces nothing.
// 3. The row is linked to its message and earlier PENDING codes to the number are CANCELED,
//    only now, so a failed resend leaves the previous code usable.
import { v7 as uuidv7 } from 'uuid';
import { HeraldError, RateLimitedError, SensitiveContentError, VerificationBlockedError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { generateCode, hashCode, MAX_CHECK_ATTEMPTS, parseStartInput, type RandomInt, type StartVerificationInput } from '../domain/verification.js';
import {
  isCountryAllowed,
  NUMBER_WINDOW,
  numberPrefix,
  numberWaitSeconds,
  resolvePrefixVelocity,
  windowWaitSeconds,
  type PrefixVelocity,
} from '../domain/verification-limits.js';
import { checkOtpTemplate, chooseOtpLocale, otpTemplateValues, renderDefaultOtpBody } from '../domain/verification-templates.js';
import type { SendMessageInput } from '../domain/message-draft.js';
import type { Store } from '../store/store.js';
import { sendMessage, type AcceptedMessage, type SendStore } from './messages.js';
import { getMessageSealKey, getVerificationKey } from './secrets.js';
import type { ComplianceDeps } from './send-pipeline.js';
import { findSendableTemplate } from './templates.js';

/** The store's parts a verification start uses. */
type VerificationStore = SendStore & Pick<Store, 'secrets' | 'verificationLocks' | 'accountSettings'>;

export interface StartVerificationOptions {
  now: Date;
  maxBodyLength: number;
  defaultCountry?: string | undefined;
  /** For tests that need a known code; a CSPRNG otherwise. */
  randomInt?: RandomInt;
}

export interface StartedVerification {
  verificationId: string;
  message: AcceptedMessage;
}

/** Sends a new code to `input.to`; see the file comment for the order of work. */
export async function startVerification(
  store: VerificationStore,
  compliance: ComplianceDeps,
  accountId: string,
  input: StartVerificationInput,
  options: StartVerificationOptions,
): Promise<StartedVerification | HeraldError> {
  const params = parseStartInput(input);
  const phone = normalizePhoneNumber(input.to ?? '', options.defaultCountry as never);
  if (params instanceof HeraldError) {
    if (!phone.ok && !params.issues.some((i) => i.path[1] === 'to')) params.issues.push({ path: ['input', 'to'], message: phone.error.message });
    return params;
  }
  if (!phone.ok) return phone.error;
  const to = phone.e164;

  let text: { body: string } | { templateId: string; variables: Record<string, string | number> };
  const code = generateCode(params.codeLength, options.randomInt);
  if (params.templateId) {
    const template = await findSendableTemplate(store.templates, accountId, params.templateId);
    if (template instanceof HeraldError) return template;
    const unfit = checkOtpTemplate(template);
    if (unfit) return unfit;
    text = { templateId: template.id, variables: otpTemplateValues(template.variables, code, params.ttlSeconds) };
  } else {
    const locale = chooseOtpLocale(params.locale, to);
    if (locale instanceof HeraldError) return locale;
    text = { body: renderDefaultOtpBody(locale, code, params.ttlSeconds) };
  }

  const policy = await loadOtpPolicy(store, accountId);
  if (!isCountryAllowed(phone.country, policy.allowedCountries)) {
    return new VerificationBlockedError(
      'COUNTRY_NOT_ALLOWED',
      { country: phone.country ?? null },
      `verification codes to ${phone.country ?? 'non-geographic numbers'} are not allowed for this account (otpAllowedCountries)`,
    );
  }

  const key = await getVerificationKey(store.secrets);
  const id = uuidv7();
  const reserved = await reserve(store, accountId, to, policy.velocity, options.now, {
    id,
    codeHash: new Uint8Array(hashCode(key, id, code)),
    codeLength: params.codeLength,
    expiresAt: new Date(options.now.getTime() + params.ttlSeconds * 1000),
  });
  if (reserved) return reserved;

  const sendInput: SendMessageInput = { to, ...text };
  let sent: AcceptedMessage | HeraldError;
  try {
    sent = await sendMessage(store, compliance, accountId, sendInput, {
      maxBodyLength: options.maxBodyLength,
      defaultCountry: options.defaultCountry,
      now: options.now,
      plainBodyCategory: 'OTP',
      secret: { value: code, key: await getMessageSealKey(store.secrets) },
    });
  } catch (error) {
    await store.prisma.verification.delete({ where: { id } });
    throw error;
  }
  if (sent instanceof HeraldError) {
    await store.prisma.verification.delete({ where: { id } });
    return withoutCode(sent, code);
  }

  await store.prisma.$transaction([
    store.prisma.verification.update({ where: { id }, data: { messageId: sent.id } }),
    store.prisma.verification.updateMany({ where: { accountId, to, status: 'PENDING', id: { not: id } }, data: { status: 'CANCELED' } }),
  ]);
  return { verificationId: id, message: sent };
}

interface OtpPolicy {
  allowedCountries: string[];
  velocity: PrefixVelocity;
}

async function loadOtpPolicy(store: VerificationStore, accountId: string): Promise<OtpPolicy> {
  const settings = await store.accountSettings.otpSettings(accountId);
  return { allowedCountries: settings?.otpAllowedCountries ?? [], velocity: resolvePrefixVelocity(settings?.otpPrefixVelocity) };
}

/**
 * Counts earlier codes to the number and its range and, if both allow another, inserts the
 * verification (step 1 of the file comment). Returns the refusal, or undefined once inserted.
 */
async function reserve(
  store: VerificationStore,
  accountId: string,
  to: string,
  velocity: PrefixVelocity,
  now: Date,
  row: { id: string; codeHash: Uint8Array<ArrayBuffer>; codeLength: number; expiresAt: Date },
): Promise<RateLimitedError | VerificationBlockedError | undefined> {
  const prefix = numberPrefix(to, velocity.prefixDigits);
  // This process's starts to the range queue before taking a connection (store/verification-locks.ts).
  return store.verificationLocks.inRangeOrder(accountId, prefix, () => store.prisma.$transaction(async (tx) => {
    await store.verificationLocks.lockNumberAndRange(tx, accountId, to, prefix);

    const recent = await store.verificationLocks.recentStarts(tx, accountId, {
      to,
      numberSince: new Date(now.getTime() - NUMBER_WINDOW.perSeconds * 1000),
      numberMax: NUMBER_WINDOW.max,
      prefix,
      // The range is full when it already holds `max` codes in the window: wait for the oldest of those to leave.
      rangeSince: new Date(now.getTime() - velocity.perSeconds * 1000),
      rangeMax: velocity.max,
    });
    const numberWait = numberWaitSeconds(recent.numberSentAt, now);
    if (numberWait > 0) {
      return new RateLimitedError(
        numberWait,
        `at most one code per minute and ${NUMBER_WINDOW.max} per ${NUMBER_WINDOW.perSeconds / 60} minutes to one number; retry after ${numberWait} s`,
      );
    }
    const rangeWait = windowWaitSeconds(recent.rangeNth, velocity.perSeconds, now);
    if (rangeWait > 0) {
      return new VerificationBlockedError(
        'PREFIX_VELOCITY',
        { prefix, blockedForSeconds: rangeWait },
        `too many verification codes to numbers starting ${prefix} (at most ${velocity.max} per ${velocity.perSeconds} s, otpPrefixVelocity); retry after ${rangeWait} s`,
      );
    }

    await tx.verification.create({
      data: { ...row, accountId, to, status: 'PENDING', maxAttempts: MAX_CHECK_ATTEMPTS, createdAt: now },
    });
    return undefined;
  }));
}

/**
 * A refusal must not reveal the code: only a sensitive-word rule made of digits could quote
 * part of it (an account may BLOCK any word, "1234" included).
 */
function withoutCode(error: HeraldError, code: string): HeraldError {
  if (!(error instanceof SensitiveContentError)) return error;
  const words = error.words.map((word) => {
    const digits = word.replace(/\D/g, '');
    return digits && code.includes(digits) ? '[code]' : word;
  });
  return new SensitiveContentError(words);
}

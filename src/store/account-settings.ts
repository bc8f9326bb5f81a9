// An account's settings as sends and inbound read them: the compliance policy (cached by
// services/compliance.ts), the keyword replies and the OTP anti-pumping settings.
import type { PrismaClient } from '../db/database.js';
import type { AccountSettings, Prisma, SensitiveWordRule } from '../generated/prisma/client.js';
import type { KeywordAction } from '../domain/keywords.js';

export interface CompliancePolicyRows {
  settings: AccountSettings | null;
  rules: SensitiveWordRule[];
}

export interface OtpSettings {
  otpAllowedCountries: string[];
  otpPrefixVelocity: Prisma.JsonValue;
}

export interface AccountSettingsReads {
  /** The settings row (null: defaults) and the account's sensitive-word rules, read together. */
  compliancePolicy(accountId: string): Promise<CompliancePolicyRows>;
  /** The account's reply to a keyword, or null when it configured none. */
  keywordReply(accountId: string, keyword: KeywordAction): Promise<string | null>;
  /** The OTP settings, or null when the account has no settings row. */
  otpSettings(accountId: string): Promise<OtpSettings | null>;
}

const replyField = { STOP: 'stopReply', START: 'startReply', HELP: 'helpText' } as const satisfies Record<KeywordAction, keyof AccountSettings>;

export function createAccountSettingsReads(prisma: PrismaClient): AccountSettingsReads {
  return {
    async compliancePolicy(accountId) {
      const [settings, rules] = await Promise.all([
        prisma.accountSettings.findUnique({ where: { accountId } }),
        prisma.sensitiveWordRule.findMany({ where: { accountId } }),
      ]);
      return { settings, rules };
    },
    async keywordReply(accountId, keyword) {
      const settings = await prisma.accountSettings.findUnique({
        where: { accountId },
        select: { helpText: true, stopReply: true, startReply: true },
      });
      return settings?.[replyField[keyword]] ?? null;
    },
    otpSettings: (accountId) =>
      prisma.accountSettings.findUnique({ where: { accountId }, select: { otpAllowedCountries: true, otpPrefixVelocity: true } }),
  };
}

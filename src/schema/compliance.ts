// Opt-outs, the account's sensitive-word rules and its frequency-limit settings.
import { auditActorOf } from './audit-log.js';
import { addSensitiveWordRule, removeSensitiveWordRules, updateAccountSettings } from '../services/compliance-settings.js';
import { ForbiddenError, InvalidPhoneNumberError, NotFoundError, ValidationError } from '../domain/errors.js';
import { foldTerm } from '../domain/sensitive/fold-text.js';
import { parseLimitPolicyOverrides, resolveLimitPolicy } from '../limits/policy.js';
import { parseAllowedCountries, parsePrefixVelocity, resolvePrefixVelocity, type PrefixVelocity } from '../domain/verification-limits.js';
import { addOptOut, removeOptOut } from '../services/opt-outs.js';
import { Prisma } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { unwrap } from './unwrap.js';
import type { Context } from './context.js';

const OptOut = builder.prismaObject('OptOut', {
  description: 'A number that asked not to be messaged by this account (on every provider).',
  fields: (t) => ({
    phone: t.exposeString('phone'),
    source: t.exposeString('source', { description: 'API, or KEYWORD when the recipient replied STOP.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const SensitiveRuleKindEnum = builder.enumType('SensitiveRuleKind', {
  description: 'BLOCK adds a word to the built-in list for this account; ALLOW exempts one.',
  values: ['BLOCK', 'ALLOW'] as const,
});

const SensitiveWordRule = builder.prismaObject('SensitiveWordRule', {
  fields: (t) => ({
    word: t.exposeString('word'),
    kind: t.expose('kind', { type: SensitiveRuleKindEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

interface SettingsShape {
  limits: unknown;
  effectiveLimits: unknown;
  otpBypassesOptOut: boolean;
  helpText: string | null;
  stopReply: string | null;
  startReply: string | null;
  otpAllowedCountries: string[];
  otpPrefixVelocity: PrefixVelocity;
}

const OtpPrefixVelocity = builder.objectRef<PrefixVelocity>('OtpPrefixVelocity').implement({
  description: 'At most `max` verification codes per `perSeconds` to numbers sharing their first `prefixDigits` digits (anti-pumping).',
  fields: (t) => ({
    prefixDigits: t.exposeInt('prefixDigits', { description: "Digits of the E.164 number after the '+', country code included." }),
    max: t.exposeInt('max'),
    perSeconds: t.exposeInt('perSeconds'),
  }),
});

const OtpPrefixVelocityInput = builder.inputType('OtpPrefixVelocityInput', {
  fields: (t) => ({
    prefixDigits: t.int({ required: true, description: '1 to 15.' }),
    max: t.int({ required: true }),
    perSeconds: t.int({ required: true, description: '60 to 2592000 (30 days).' }),
  }),
});

const AccountSettings = builder.objectRef<SettingsShape>('AccountSettings').implement({
  fields: (t) => ({
    limits: t.field({ type: 'JSON', description: "The account's overrides of the default limits, as stored.", resolve: (s) => s.limits }),
    effectiveLimits: t.field({ type: 'JSON', description: 'The limits in force: defaults with the overrides applied.', resolve: (s) => s.effectiveLimits }),
    otpBypassesOptOut: t.exposeBoolean('otpBypassesOptOut', { description: 'Whether OTP messages reach opted-out numbers.' }),
    helpText: t.exposeString('helpText', { nullable: true, description: 'The answer to a HELP reply; null = no answer.' }),
    stopReply: t.exposeString('stopReply', { nullable: true, description: 'The confirmation of a STOP (opt-out) reply; null = none.' }),
    startReply: t.exposeString('startReply', { nullable: true, description: 'The confirmation of a START (opt-in) reply; null = none.' }),
    otpAllowedCountries: t.exposeStringList('otpAllowedCountries', {
      description: 'ISO country codes verification codes may be sent to; empty = every country.',
    }),
    otpPrefixVelocity: t.field({
      type: OtpPrefixVelocity,
      description: 'The anti-pumping velocity limit per number range in force (the default unless set).',
      resolve: (s) => s.otpPrefixVelocity,
    }),
  }),
});

async function loadSettings(ctx: Context): Promise<SettingsShape> {
  const row = await ctx.prisma.accountSettings.findUnique({ where: { accountId: ctx.auth.accountId } });
  const overrides = parseLimitPolicyOverrides(row?.limits ?? {});
  return {
    limits: row?.limits ?? {},
    effectiveLimits: resolveLimitPolicy(overrides instanceof ValidationError ? {} : overrides),
    otpBypassesOptOut: row?.otpBypassesOptOut ?? true,
    helpText: row?.helpText ?? null,
    stopReply: row?.stopReply ?? null,
    startReply: row?.startReply ?? null,
    otpAllowedCountries: row?.otpAllowedCountries ?? [],
    otpPrefixVelocity: resolvePrefixVelocity(row?.otpPrefixVelocity),
  };
}

type RuleKind = (typeof SensitiveRuleKindEnum)['$inferType'];

/** The account's rules of a kind that screen the same as `word` (equal after folding), oldest first. */
async function findRulesLike(ctx: Context, kind: RuleKind, word: string) {
  const key = foldTerm(word);
  if (!key) return [];
  const rules = await ctx.prisma.sensitiveWordRule.findMany({ where: { accountId: ctx.auth.accountId, kind }, orderBy: { createdAt: 'asc' } });
  return rules.filter((r) => foldTerm(r.word) === key);
}

builder.queryFields((t) => ({
  optOuts: t.prismaConnection({
    type: OptOut,
    cursor: 'accountId_phone',
    description: "The account's opt-out list, newest first.",
    maxSize: 500,
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.optOut.findMany({ ...query, where: { accountId: ctx.auth.accountId }, orderBy: [{ createdAt: 'desc' }, { phone: 'asc' }] }),
  }),
  sensitiveWordRules: t.prismaField({
    type: [SensitiveWordRule],
    description: "The account's additions to and exemptions from the built-in sensitive-word list.",
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.sensitiveWordRule.findMany({ ...query, where: { accountId: ctx.auth.accountId }, orderBy: [{ kind: 'asc' }, { word: 'asc' }] }),
  }),
  accountSettings: t.field({ type: AccountSettings, resolve: (_root, _args, ctx) => loadSettings(ctx) }),
}));

const AccountSettingsInput = builder.inputType('AccountSettingsInput', {
  fields: (t) => ({
    limits: t.field({
      type: 'JSON',
      required: false,
      description: 'Overrides of the default frequency limits (see `effectiveLimits` for the shape); `{}` restores the defaults.',
    }),
    otpBypassesOptOut: t.boolean({ required: false }),
    helpText: t.string({ required: false, description: 'Answer to HELP, sent from the number that received it; null or "" = no answer.' }),
    stopReply: t.string({ required: false, description: 'Confirmation of STOP (reaches the number although it just opted out); null or "" = none.' }),
    startReply: t.string({ required: false, description: 'Confirmation of START; null or "" = none.' }),
    otpAllowedCountries: t.stringList({ required: false, description: 'Countries verification codes may go to (ISO codes); [] = every country.' }),
    otpPrefixVelocity: t.field({ type: OtpPrefixVelocityInput, required: false, description: 'null restores the default.' }),
  }),
});

builder.mutationFields((t) => ({
  addOptOut: t.prismaField({
    type: OptOut,
    description: 'Stops every message of this account to the number (idempotent).',
    errors: { types: [InvalidPhoneNumberError] },
    args: { phone: t.arg.string({ required: true }) },
    resolve: async (_query, _root, args, ctx) => unwrap(await addOptOut(ctx.store.optOuts, ctx.auth.accountId, args.phone, { defaultCountry: ctx.config.defaultCountry, audit: { prisma: ctx.prisma, actor: await auditActorOf(ctx) } })),
  }),
  removeOptOut: t.field({
    type: 'String',
    description: 'Allows messages to the number again; returns it in E.164.',
    errors: { types: [InvalidPhoneNumberError, NotFoundError] },
    args: { phone: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => unwrap(await removeOptOut(ctx.store.optOuts, ctx.auth.accountId, args.phone, { defaultCountry: ctx.config.defaultCountry, audit: { prisma: ctx.prisma, actor: await auditActorOf(ctx) } })).phone,
  }),
  addSensitiveWordRule: t.prismaField({
    type: SensitiveWordRule,
    description: 'ADMIN only. BLOCK a word for this account, or ALLOW (exempt) one from the built-in list.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { word: t.arg.string({ required: true }), kind: t.arg({ type: SensitiveRuleKindEnum, required: true }) },
    // No `...query` here: when a client selects no field of `data`, Pothos gives an empty
    // `select`, which Prisma rejects. The whole row is small.
    resolve: async (_query, _root, args, ctx) => unwrap(await addRule(ctx, args.kind, args.word)),
  }),
  removeSensitiveWordRule: t.field({
    type: 'String',
    description: 'ADMIN only. Removes a BLOCK or ALLOW rule (in any spelling that screens the same); returns the word as it was added.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ForbiddenError] },
    args: { word: t.arg.string({ required: true }), kind: t.arg({ type: SensitiveRuleKindEnum, required: true }) },
    resolve: async (_root, args, ctx) => unwrap(await removeRule(ctx, args.kind, args.word)),
  }),
  updateAccountSettings: t.field({
    type: AccountSettings,
    description: 'ADMIN only. Frequency-limit overrides and the OTP opt-out exemption.',
    authScopes: { admin: true },
    errors: { types: [ValidationError, ForbiddenError] },
    args: { input: t.arg({ type: AccountSettingsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const data = unwrap(parseSettingsInput(input, ctx.config.maxBodyLength));
      await updateAccountSettings(ctx.prisma, ctx.auth.accountId, data, await auditActorOf(ctx));
      ctx.compliance.invalidate(ctx.auth.accountId);
      return loadSettings(ctx);
    },
  }),
}));

/** Adds a rule; one that screens the same is kept as it is ("Globex" and "ＧＬＯＢＥＸ" are one rule: the first spelling stays). */
async function addRule(ctx: Context, kind: RuleKind, input: string) {
  const word = input.trim();
  if (!word || !foldTerm(word) || [...word].length > 100) {
    return new ValidationError([{ path: ['word'], message: 'must be 1 to 100 characters with at least one letter or digit' }]);
  }
  const same = await findRulesLike(ctx, kind, word);
  if (same.length) return same[0];
  const key = { accountId: ctx.auth.accountId, kind, word };
  const rule = await addSensitiveWordRule(ctx.prisma, key, await auditActorOf(ctx));
  ctx.compliance.invalidate(ctx.auth.accountId);
  return rule;
}

/** Removes the rules that screen the same as `input`; the word as it was added, or NotFoundError. */
async function removeRule(ctx: Context, kind: RuleKind, input: string): Promise<string | NotFoundError> {
  const rules = await findRulesLike(ctx, kind, input.trim());
  const removed = await removeSensitiveWordRules(ctx.prisma, ctx.auth.accountId, kind, rules.map((r) => r.word), await auditActorOf(ctx));
  if (!removed) return new NotFoundError(`${kind} rule for "${input}"`);
  ctx.compliance.invalidate(ctx.auth.accountId);
  return rules[0].word;
}

/** An AccountSettingsInput, validated, as the columns to write. */
function parseSettingsInput(input: typeof AccountSettingsInput.$inferInput, maxBodyLength: number) {
  let limits: object | undefined;
  if (input.limits !== undefined && input.limits !== null) {
    const parsed = parseLimitPolicyOverrides(input.limits);
    if (parsed instanceof ValidationError) return new ValidationError(parsed.issues.map((i) => ({ ...i, path: ['input', 'limits', ...i.path] })));
    limits = parsed;
  }
  const otp = parseOtpSettings(input);
  if (otp instanceof ValidationError) return otp;
  const replies = parseReplySettings(input, maxBodyLength);
  if (replies instanceof ValidationError) return replies;
  return {
    ...(limits !== undefined && { limits }),
    ...(input.otpBypassesOptOut != null && { otpBypassesOptOut: input.otpBypassesOptOut }),
    ...otp,
    ...replies,
  };
}

/** The OTP anti-pumping fields of an AccountSettingsInput, validated, as columns to write. */
function parseOtpSettings(input: { otpAllowedCountries?: string[] | null; otpPrefixVelocity?: PrefixVelocity | null }) {
  const data: { otpAllowedCountries?: string[]; otpPrefixVelocity?: Prisma.InputJsonObject | typeof Prisma.DbNull } = {};
  const issues = [];
  if (input.otpAllowedCountries != null) {
    const countries = parseAllowedCountries(input.otpAllowedCountries, ['input', 'otpAllowedCountries']);
    if (countries instanceof ValidationError) issues.push(...countries.issues);
    else data.otpAllowedCountries = countries;
  }
  if (input.otpPrefixVelocity === null) data.otpPrefixVelocity = Prisma.DbNull;
  else if (input.otpPrefixVelocity !== undefined) {
    const velocity = parsePrefixVelocity(input.otpPrefixVelocity, ['input', 'otpPrefixVelocity']);
    if (velocity instanceof ValidationError) issues.push(...velocity.issues);
    else data.otpPrefixVelocity = { ...velocity };
  }
  return issues.length ? new ValidationError(issues) : data;
}

type ReplySettings = { helpText?: string | null; stopReply?: string | null; startReply?: string | null };

/** The keyword replies of an AccountSettingsInput: a text sets one, null or "" removes it (no reply), absent keeps it. */
function parseReplySettings(input: ReplySettings, maxLength: number): ReplySettings | ValidationError {
  const data: ReplySettings = {};
  const issues: { path: string[]; message: string }[] = [];
  for (const field of ['helpText', 'stopReply', 'startReply'] as const) {
    if (input[field] === undefined) continue;
    const text = input[field]?.trim() || null;
    if (text && [...text].length > maxLength) issues.push({ path: ['input', field], message: `must be at most ${maxLength} characters` });
    else data[field] = text;
  }
  return issues.length ? new ValidationError(issues) : data;
}

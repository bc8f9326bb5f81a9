// Everything between "a caller asked to send" and "a row to insert", for one message or ten
// thousand: validation, template rendering, content screening, opt-outs and frequency limits.
// Shared work (the template, the opt-out lookup, the limit checks) is done once per batch.
import { HeraldError, RateLimitedError, RecipientOptedOutError, SensitiveContentError, ValidationError } from '../domain/errors.js';
import { parseSenderIdentity } from '../domain/sender-identity.js';
import { draftMessage, type DraftOptions, type DraftTemplate, type MessageDraft, type SendMessageInput } from '../domain/message-draft.js';
import type { TemplateCategory } from '../domain/templates.js';
import type { Store } from '../store/store.js';
import type { BudgetGuard } from './budgets.js';
import { findSendableTemplate } from './templates.js';

/** The store's parts a send reads. */
export type SendReads = Pick<Store, 'templates' | 'senderIdentities' | 'optOuts'>;

export interface ComplianceDeps {
  /** Sensitive words in `text` for this account (its additions and exemptions applied). */
  screen(accountId: string, text: string): Promise<string[]>;
  /** Consumes frequency-limit points for each send; an error for each refused one. */
  checkSendLimits(accountId: string, items: { recipient: string; category: TemplateCategory | null }[]): Promise<(RateLimitedError | undefined)[]>;
  /** Whether OTP messages may reach opted-out numbers for this account. */
  otpBypassesOptOut(accountId: string): Promise<boolean>;
  /**
   * The account's spending limits (services/budgets.ts). Absent in callers that set no
   * budgets (unit tests); present in every running Herald, on every send path.
   */
  budgets?: BudgetGuard;
}

export type PreparedSend = MessageDraft | HeraldError;

/** Send options set by Herald itself; no API input reaches them. */
export interface SendOptions extends DraftOptions {
  /**
   * The message answers a STOP, START or HELP keyword from this very number, so the opt-out
   * list does not stop it: carriers require one confirmation to a number that has just opted
   * out (CTIA: "You have been unsubscribed…"), and HELP is answered whatever the opt-in state.
   * Only the inbound keyword handler (services/inbound.ts) sets it.
   */
  keywordReply?: boolean;
  /**
   * A secret in the text (a verification code): stored masked in `body` and `variables`, with
   * the real body sealed under `key` for the dispatcher. Only the verification service sets it.
   */
  secret?: { value: string; key: Buffer };
  /**
   * The browser access token sending (its jti), recorded on the message so that this token may
   * read and watch what it sent. Only sendMessage's resolver sets it.
   */
  accessTokenId?: string;
}

/**
 * Prepares sends that share one template (or none). Returns, in input order, a draft to store
 * or the reason that input is refused. Limits are consumed last, only by sends that passed
 * every other check, so a refused message never uses up quota.
 */
export async function prepareSends(
  store: SendReads,
  deps: ComplianceDeps,
  accountId: string,
  inputs: SendMessageInput[],
  options: SendOptions,
): Promise<PreparedSend[]> {
  const templates = new Map<string, DraftTemplate | HeraldError>();
  for (const id of new Set(inputs.map((i) => i.templateId).filter((id): id is string => !!id))) {
    templates.set(id, await findSendableTemplate(store.templates, accountId, id));
  }

  const results: PreparedSend[] = await Promise.all(
    inputs.map(async (input) => {
      const template = input.templateId ? templates.get(input.templateId) : undefined;
      if (template instanceof HeraldError) return template;
      const draft = draftMessage(input, options, template);
      if (draft instanceof HeraldError) return draft;
      const words = await deps.screen(accountId, draft.body);
      return words.length ? new SensitiveContentError(words) : draft;
    }),
  );

  const drafts = () => results.map((r, index) => ({ r, index })).filter((x): x is { r: MessageDraft; index: number } => !(x.r instanceof HeraldError));
  await applySenderIdentities(store, accountId, drafts(), results, options);
  const optedOut = options.keywordReply ? new Set<string>() : await store.optOuts.findOptedOut(accountId, drafts().map((d) => d.r.to));
  if (optedOut.size > 0) {
    const otpBypass = await deps.otpBypassesOptOut(accountId);
    for (const { r, index } of drafts()) {
      if (optedOut.has(r.to) && !(otpBypass && r.category === 'OTP')) results[index] = new RecipientOptedOutError(r.to);
    }
  }

  const pending = drafts();
  const verdicts = await deps.checkSendLimits(accountId, pending.map(({ r }) => ({ recipient: r.to, category: r.category })));
  pending.forEach(({ index }, i) => {
    const refused = verdicts[i];
    if (refused) results[index] = refused;
  });
  return results;
}

/**
 * An account that registered sender identities sends only from them: `from` must be one of
 * them (a number in any format, compared in E.164), and a message without `from` goes out from
 * the default identity, if one is marked. An account without identities is not restricted.
 */
async function applySenderIdentities(
  store: SendReads,
  accountId: string,
  drafts: { r: MessageDraft; index: number }[],
  results: PreparedSend[],
  options: SendOptions,
): Promise<void> {
  if (drafts.length === 0) return;
  const identities = await store.senderIdentities.listForAccount(accountId);
  if (identities.length === 0) return;
  const owned = new Set(identities.map((i) => i.value));
  const fallback = identities.find((i) => i.isDefault)?.value ?? null;
  for (const { r, index } of drafts) {
    if (!r.from) {
      r.from = fallback;
      continue;
    }
    const parsed = parseSenderIdentity(r.from, options.defaultCountry, ['input', 'from']);
    const value = parsed instanceof ValidationError ? r.from : parsed.value;
    if (owned.has(value)) r.from = value;
    else results[index] = new ValidationError([{ path: ['input', 'from'], message: "is not one of this account's sender identities (see senderIdentities)" }]);
  }
}

// Single sends (sendMessage, keyword replies, verification codes) and cancellation: checks run
// through the send pipeline, then the store writes the message (grouped with the other sends
// of the turn, or in a transaction with its idempotency key).
import type { Message } from '../generated/prisma/client.js';
import type { BudgetExceededError } from '../domain/budgets.js';
import { HeraldError, IdempotencyConflictError, NotCancelableError, NotFoundError } from '../domain/errors.js';
import { isCancelable, type MessageStatus } from '../domain/status-machine.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { DraftOptions, MessageDraft, SendMessageInput } from '../domain/message-draft.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { maskSecret, sealText } from '../domain/sealing.js';
import { prepareSends, type ComplianceDeps, type SendOptions } from './send-pipeline.js';
import { hashRequest } from '../domain/request-hash.js';
import type { Db } from '../store/db-client.js';
import type { Store } from '../store/store.js';

/** The store's parts a single send uses. */
export type SendStore = Pick<Store, 'prisma' | 'templates' | 'senderIdentities' | 'optOuts' | 'newMessages' | 'idempotency'>;

export interface AcceptedMessage {
  id: string;
  status: MessageStatus;
  /** False when an idempotent retry returned an earlier message. */
  created: boolean;
  /** The stored row, when the write returned it (no second read needed for the answer). */
  row?: Message;
}

// docs/api.md: the same key with the same input within 24 h returns the original result.
const IDEMPOTENCY_WINDOW_HOURS = 24;

/**
 * Accepts a message: validates and screens it, then writes it and its first event in one
 * transaction before returning, so an accepted message is durable. With an idempotency key,
 * an earlier result is returned before any check (a retry must not be refused for limits its
 * first attempt consumed), and the key's row is inserted in the same transaction as the
 * message: a concurrent duplicate blocks on the primary key until the first commits, then
 * finds its result, so racing requests produce one message.
 */
export async function sendMessage(
  store: SendStore,
  compliance: ComplianceDeps,
  accountId: string,
  input: SendMessageInput,
  options: SendOptions,
): Promise<AcceptedMessage | HeraldError> {
  const key = input.idempotencyKey || null;
  const requestHash = key ? hashRequest(idempotencyFingerprint(input, options)) : '';
  if (key) {
    const earlier = await findIdempotentResult(store, accountId, key, requestHash);
    if (earlier) return earlier;
  }
  const [draft] = await prepareSends(store, compliance, accountId, [input], options);
  if (draft instanceof HeraldError) return draft;
  const costs = await budgetCosts(store, compliance, accountId, draft);
  if (!key && !options.secret && !costs) {
    const row = await store.newMessages.insert(accountId, draft, options.accessTokenId);
    return { id: row.id, status: draft.status, created: true, row };
  }
  if (!key && !costs) return insertMessage(store, store.prisma, accountId, draft, options);

  // One transaction for the idempotency key, the message and the budget's charge: a refused
  // charge rolls back the other two, so nothing of a send over budget is kept.
  try {
    return await store.prisma.$transaction(async (tx) => {
      if (key && !(await store.idempotency.claim(tx, accountId, key, requestHash, IDEMPOTENCY_WINDOW_HOURS))) {
        return (await findIdempotentResult(store, accountId, key, requestHash, tx)) ?? new IdempotencyConflictError(key);
      }
      const message = await insertMessage(store, tx, accountId, draft, options);
      if (key) await store.idempotency.link(tx, accountId, key, message.id);
      const refused = costs && (await compliance.budgets!.charge(tx, accountId, costs));
      if (refused) throw new RolledBack(refused);
      return message;
    }, BUDGET_TRANSACTION);
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
    await compliance.budgets!.refused(accountId, error.refusal);
    return error.refusal;
  }
}

/**
 * Sends of one account with a budget wait for each other on its spend row: under a burst they
 * queue for it (and for a pooled connection) longer than Prisma's defaults (2 s, 5 s) allow.
 */
const BUDGET_TRANSACTION = { maxWait: 30_000, timeout: 30_000 };

/** Thrown out of a transaction to roll it back, carrying the refusal to answer. */
class RolledBack extends Error {
  constructor(readonly refusal: BudgetExceededError) {
    super(refusal.message);
  }
}

/** What the draft costs the account's budgets; undefined (no query) when it has none. */
async function budgetCosts(store: SendStore, compliance: ComplianceDeps, accountId: string, draft: MessageDraft) {
  if (!compliance.budgets) return undefined;
  return compliance.budgets.costsFor(accountId, async () => [
    {
      to: draft.to,
      segments: draft.segments,
      category: draft.category,
      // Routes may match by template name: the estimate must pick the route dispatch will.
      templateName: draft.templateId ? ((await store.templates.findLive(accountId, draft.templateId))?.name ?? null) : null,
    },
  ]);
}

/** What makes two requests "the same input": the number compared after normalisation. */
function idempotencyFingerprint(input: SendMessageInput, options: DraftOptions) {
  const phone = normalizePhoneNumber(input.to ?? '', options.defaultCountry as never);
  return {
    to: phone.ok ? phone.e164 : input.to,
    from: input.from,
    body: input.body,
    templateId: input.templateId,
    variables: input.variables,
    scheduledAt: input.scheduledAt,
    metadata: input.metadata,
  };
}

async function findIdempotentResult(
  store: SendStore,
  accountId: string,
  key: string,
  requestHash: string,
  db?: Db,
): Promise<AcceptedMessage | IdempotencyConflictError | undefined> {
  const record = await store.idempotency.find(accountId, key, db);
  if (!record || record.createdAt.getTime() < Date.now() - IDEMPOTENCY_WINDOW_HOURS * 3600_000) return undefined;
  if (record.requestHash !== requestHash || !record.messageId) return new IdempotencyConflictError(key);
  const status = await store.idempotency.messageStatus(record.messageId, db);
  return { id: record.messageId, status: status ?? 'QUEUED', created: false };
}

async function insertMessage(store: SendStore, db: Db, accountId: string, draft: MessageDraft, { secret, accessTokenId }: SendOptions): Promise<AcceptedMessage> {
  // A secret (a verification code) is stored masked; only the sealed copy holds the real text.
  const mask = (text: string) => (secret ? maskSecret(text, secret.value) : text);
  const row = await store.newMessages.insertOne(db, accountId, draft, {
    body: mask(draft.body),
    variables: draft.variables && secret ? JSON.parse(mask(JSON.stringify(draft.variables))) : draft.variables,
    sealedBody: secret ? new Uint8Array(sealText(secret.key, draft.body)) : null,
    sealedVariables: secret && draft.variables ? new Uint8Array(sealText(secret.key, JSON.stringify(draft.variables))) : null,
  }, accessTokenId);
  return { id: row.id, status: draft.status, created: true };
}

/** Cancels a SCHEDULED or QUEUED message of the account (docs/api.md: CANCELED only before SENDING). */
export async function cancelMessage(store: Pick<Store, 'prisma' | 'messageStatus'>, accountId: string, id: string): Promise<StatusChange | HeraldError> {
  const owned = await store.prisma.message.findFirst({ where: { id, accountId }, select: { id: true } });
  if (!owned) return new NotFoundError('message');
  let refusedIn: MessageStatus | undefined;
  const change = await store.messageStatus.change(id, (m) => {
    if (!isCancelable(m.status)) {
      refusedIn = m.status;
      return { next: null };
    }
    return { next: 'CANCELED', data: { leaseUntil: null, dueAt: null }, event: { source: 'API' } };
  });
  if (!change) return new NotCancelableError(`the message is ${refusedIn ?? 'gone'}; only SCHEDULED or QUEUED messages can be canceled`);
  return change;
}

// sendMessages: up to 10 000 recipients in one call. Each recipient is validated on its own;
// the accepted ones are written under one batch id and committed together (store/batches.ts),
// before the call answers; the refused ones are listed with their index, code and reason.
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { HeraldError, IdempotencyConflictError, ValidationError } from '../domain/errors.js';
import type { DraftOptions, MessageDraft, SendMessageInput } from '../domain/message-draft.js';
import { hashRequest } from '../domain/request-hash.js';
import { parseOrError } from '../domain/validation.js';
import type { StatusChange } from '../pubsub/pubsub.js';
import type { BatchRejection } from '../store/batches.js';
import type { Store } from '../store/store.js';
import { readsOncePerBatch, screeningOncePerText } from './batch-scope.js';
import { prepareSends, type ComplianceDeps } from './send-pipeline.js';
import { totalOf, type EstimatedMessage } from './cost-estimate.js';
import type { SendCosts } from './budgets.js';
import { BudgetExceededError } from '../domain/budgets.js';
import type { Money } from '../domain/money.js';
import { findSendableTemplate } from './templates.js';

/** The store's parts a bulk send uses. */
export type BulkStore = Pick<Store, 'templates' | 'senderIdentities' | 'optOuts' | 'batches'>;

export const MAX_RECIPIENTS = 10_000;
/** Recipients checked together, and written together (store/batches.ts). */
const CHUNK = 1_000;

export interface SendMessagesInput {
  recipients: { to: string; variables?: unknown }[];
  body?: string | null;
  templateId?: string | null;
  from?: string | null;
  scheduledAt?: Date | null;
  idempotencyKey?: string | null;
  metadata?: unknown;
}

export type RecipientRejection = BatchRejection;

export interface BatchOutcome {
  batchId: string;
  rejected: RecipientRejection[];
  /** The accepted messages' status changes to publish; empty for an idempotent replay. */
  changes: StatusChange[];
  /** What routing looks at in each accepted message, for the cost estimate; empty for a replay. */
  accepted: EstimatedMessage[];
  /** The accepted messages' estimated total, when the budgets needed it (else the caller estimates). */
  estimatedCost?: Money[];
}

// docs/api.md: the same key with the same input within 24 h returns the original result.
const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

const shapeSchema = z
  .object({
    recipients: z.array(z.unknown()).min(1, 'give at least one recipient').max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients per call`),
    idempotencyKey: z.string().min(1, 'must not be empty').max(255).nullish(),
  })
  .loose();

export async function sendMessages(
  store: BulkStore,
  compliance: ComplianceDeps,
  accountId: string,
  input: SendMessagesInput,
  options: DraftOptions,
): Promise<BatchOutcome | HeraldError> {
  const shape = parseOrError(shapeSchema, input, ['input']);
  if (shape instanceof ValidationError) return shape;
  const key = input.idempotencyKey || null;
  const requestHash = key ? hashRequest(input) : null;
  if (key) {
    const earlier = await findEarlierBatch(store, accountId, key, requestHash!);
    if (earlier) return earlier;
  }
  const reads = readsOncePerBatch(store);
  // A template problem refuses the whole call, not each of 10 000 recipients the same way.
  let templateName: string | null = null;
  if (input.templateId) {
    const template = await findSendableTemplate(reads.templates, accountId, input.templateId);
    if (template instanceof HeraldError) return template;
    templateName = template.name;
  }

  // In chunks: each chunk is checked as a call with its recipients alone would be (limits are
  // counted in order, so when quota runs short the first recipients are the ones accepted, as
  // in one call), and its messages are written while the next chunk is checked.
  const batchId = uuidv7();
  const checks = screeningOncePerText(compliance);
  const rejected: RecipientRejection[] = [];
  const changes: StatusChange[] = [];
  const accepted: EstimatedMessage[] = [];
  const writer = store.batches.begin(batchId, accountId, input.recipients.length);
  try {
    for (let start = 0; start < input.recipients.length; start += CHUNK) {
      const chunk = input.recipients.slice(start, start + CHUNK);
      const inputs: SendMessageInput[] = chunk.map((r) => ({
        to: r.to,
        body: input.body,
        templateId: input.templateId,
        variables: r.variables,
        from: input.from,
        scheduledAt: input.scheduledAt,
        metadata: input.metadata,
      }));
      const prepared = await prepareSends(reads, checks, accountId, inputs, options);
      const ids: string[] = [];
      const drafts: MessageDraft[] = [];
      prepared.forEach((result, i) => {
        if (result instanceof HeraldError) {
          rejected.push({ index: start + i, to: chunk[i].to, code: result.code, message: result.message });
          return;
        }
        const id = uuidv7();
        ids.push(id);
        drafts.push(result);
        changes.push({ id, accountId, batchId, status: result.status });
        accepted.push({ to: result.to, segments: result.segments, category: result.category, templateName });
      });
      await writer.add(ids, drafts);
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  // A budget is charged for the whole batch at once, all or nothing (docs/budgets.md): a batch
  // that would pass a limit is refused as a whole, before any of it is stored.
  let costs: SendCosts | undefined;
  try {
    costs = await compliance.budgets?.costsFor(accountId, () => accepted);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const budgets = compliance.budgets;
  const stored = await writer.commit({
    idempotency: key ? { key, requestHash: requestHash!, windowMs: IDEMPOTENCY_WINDOW_MS } : null,
    total: input.recipients.length,
    rejections: rejected,
    charge: costs && budgets ? (tx) => budgets.charge(tx, accountId, costs) : undefined,
  });
  if (stored instanceof BudgetExceededError) {
    await budgets!.refused(accountId, stored);
    return stored;
  }
  if (stored instanceof HeraldError) return stored;
  if (!stored) return (await findEarlierBatch(store, accountId, key!, requestHash!)) ?? new IdempotencyConflictError(key!);
  return { batchId, rejected, changes, accepted, estimatedCost: costs && totalOf(costs.costs) };
}

async function findEarlierBatch(store: BulkStore, accountId: string, key: string, requestHash: string): Promise<BatchOutcome | IdempotencyConflictError | undefined> {
  const batch = await store.batches.findByKey(accountId, key);
  if (!batch || batch.createdAt.getTime() < Date.now() - IDEMPOTENCY_WINDOW_MS) return undefined;
  if (batch.requestHash !== requestHash) return new IdempotencyConflictError(key);
  return { batchId: batch.id, rejected: batch.rejections, changes: [], accepted: [] };
}

import type { Prisma } from '../generated/prisma/client.js';
import { HeraldError, NotFoundError, SensitiveContentError, TemplateNotApprovedError, ValidationError } from '../domain/errors.js';
import { checkCanReview, checkCanSubmit, parseTemplateVariables, planTemplateEdit, type TemplateCategory } from '../domain/templates.js';
import { parseOrError } from '../domain/validation.js';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import type { TemplateReads } from '../store/templates.js';
import { recordAudit, type AuditActor } from './audit.js';

/** The store's parts template edits use: the client for their transactions, the locks. */
type TemplateStore = Pick<Store, 'prisma' | 'templates'>;

const nameSchema = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const bodySchema = (maxBodyLength: number) =>
  z
    .string()
    .refine((b) => b.trim().length > 0, 'must not be empty')
    .refine((b) => [...b].length <= maxBodyLength, `must be at most ${maxBodyLength} characters`);

/**
 * Whether another live template of the account has this name. Call it in the transaction that
 * then writes the name: it holds the name's lock until that transaction ends (store/templates.ts).
 */
async function nameTaken(store: TemplateStore, tx: Prisma.TransactionClient, accountId: string, name: string, exceptId?: string) {
  await store.templates.lockName(tx, accountId, name);
  const other = await tx.template.findFirst({ where: { accountId, name, deletedAt: null, ...(exceptId && { id: { not: exceptId } }) }, select: { id: true } });
  return other ? new ValidationError([{ path: ['input', 'name'], message: `a template named "${name}" already exists` }]) : undefined;
}

export async function createTemplate(
  store: TemplateStore,
  accountId: string,
  input: { name: string; body: string; category: TemplateCategory },
  options: { maxBodyLength: number },
  audit?: AuditActor,
): Promise<{ id: string } | HeraldError> {
  const name = parseOrError(nameSchema, input.name, ['input', 'name']);
  if (name instanceof ValidationError) return name;
  const body = parseOrError(bodySchema(options.maxBodyLength), input.body, ['input', 'body']);
  if (body instanceof ValidationError) return body;
  const variables = parseTemplateVariables(body);
  if (variables instanceof ValidationError) return variables;
  return store.prisma.$transaction(async (tx) => {
    const taken = await nameTaken(store, tx, accountId, name);
    if (taken) return taken;
    const template = await tx.template.create({ data: { accountId, name, category: input.category } });
    const version = await tx.templateVersion.create({ data: { templateId: template.id, version: 1, body, variables, status: 'DRAFT' } });
    await tx.template.update({ where: { id: template.id }, data: { currentVersionId: version.id } });
    if (audit) await recordAudit(tx, audit, { action: 'template.create', subjectId: template.id, after: { name, category: input.category, version: 1, body, status: 'DRAFT' } });
    return { id: template.id };
  });
}

/**
 * Edits a template: a DRAFT changes in place; an APPROVED or REJECTED one gets a new DRAFT
 * version (the approved version stays what earlier messages used); one in review cannot change.
 */
export async function updateTemplate(
  store: TemplateStore,
  accountId: string,
  id: string,
  input: { name?: string | null; body?: string | null; category?: TemplateCategory | null },
  options: { maxBodyLength: number },
  audit?: AuditActor,
): Promise<{ id: string } | HeraldError> {
  const name = input.name == null ? undefined : parseOrError(nameSchema, input.name, ['input', 'name']);
  if (name instanceof ValidationError) return name;
  const body = input.body == null ? undefined : parseOrError(bodySchema(options.maxBodyLength), input.body, ['input', 'body']);
  if (body instanceof ValidationError) return body;
  const variables = body === undefined ? undefined : parseTemplateVariables(body);
  if (variables instanceof ValidationError) return variables;

  return store.prisma.$transaction(async (tx) => {
    const template = await store.templates.findLive(accountId, id, { forUpdate: true, db: tx });
    if (!template) return new NotFoundError('template');
    const current = template.currentVersion;
    const plan = planTemplateEdit(current.status);
    if (plan instanceof HeraldError) return plan;
    if (name !== undefined) {
      const taken = await nameTaken(store, tx, accountId, name, id);
      if (taken) return taken;
    }
    await tx.template.update({ where: { id }, data: { ...(name !== undefined && { name }), ...(input.category && { category: input.category }) } });
    const content = { body: body ?? current.body, variables: variables ?? current.variables };
    if (plan === 'edit-in-place') {
      await tx.templateVersion.update({ where: { id: current.id }, data: content });
    } else if (body !== undefined || input.category) {
      const version = await tx.templateVersion.create({
        data: { templateId: id, version: current.version + 1, ...content, status: 'DRAFT' },
      });
      await tx.template.update({ where: { id }, data: { currentVersionId: version.id } });
    }
    if (audit) {
      const before = { name: template.name, category: template.category, version: current.version, body: current.body, status: current.status };
      const newVersion = plan !== 'edit-in-place' && (body !== undefined || input.category);
      const after = { name: name ?? template.name, category: input.category ?? template.category, version: newVersion ? current.version + 1 : current.version, body: content.body, status: newVersion ? 'DRAFT' : current.status };
      await recordAudit(tx, audit, { action: 'template.update', subjectId: id, before, after });
    }
    return { id };
  });
}

/** DRAFT → PENDING_REVIEW, after screening the body for sensitive words. */
export async function submitTemplate(
  store: TemplateStore,
  accountId: string,
  id: string,
  screen: (text: string) => Promise<string[]>,
  audit?: AuditActor,
): Promise<{ id: string } | HeraldError> {
  const template = await store.templates.findLive(accountId, id);
  if (!template) return new NotFoundError('template');
  const refused = checkCanSubmit(template.currentVersion.status);
  if (refused) return refused;
  const words = await screen(template.currentVersion.body);
  if (words.length) return new SensitiveContentError(words);
  const moved = await store.prisma.$transaction(async (tx) => {
    const moved = await tx.templateVersion.updateMany({
      where: { id: template.currentVersion.id, status: 'DRAFT' },
      data: { status: 'PENDING_REVIEW', submittedAt: new Date(), rejectionReason: null },
    });
    if (moved.count && audit) {
      await recordAudit(tx, audit, { action: 'template.submit', subjectId: id, before: { version: template.currentVersion.version, status: 'DRAFT' }, after: { version: template.currentVersion.version, status: 'PENDING_REVIEW' } });
    }
    return moved;
  });
  return moved.count ? { id } : (checkCanSubmit('PENDING_REVIEW') as HeraldError);
}

/** PENDING_REVIEW → APPROVED, or REJECTED with a reason (ADMIN only; checked by the caller). */
export async function reviewTemplate(
  store: TemplateStore,
  accountId: string,
  id: string,
  decision: { approve: boolean; reason?: string | null; reviewerKeyId: string },
  audit?: AuditActor,
): Promise<{ id: string } | HeraldError> {
  const reason = decision.reason?.trim() || null;
  if (!decision.approve && !reason) return new ValidationError([{ path: ['reason'], message: 'a rejection needs a reason the author can act on' }]);
  const template = await store.templates.findLive(accountId, id);
  if (!template) return new NotFoundError('template');
  const refused = checkCanReview(template.currentVersion.status);
  if (refused) return refused;
  const status = decision.approve ? 'APPROVED' : 'REJECTED';
  const moved = await store.prisma.$transaction(async (tx) => {
    const moved = await tx.templateVersion.updateMany({
      where: { id: template.currentVersion.id, status: 'PENDING_REVIEW' },
      data: { status, rejectionReason: decision.approve ? null : reason, reviewedAt: new Date(), reviewedByKeyId: decision.reviewerKeyId },
    });
    if (moved.count && audit) {
      const version = template.currentVersion.version;
      await recordAudit(tx, audit, {
        action: decision.approve ? 'template.approve' : 'template.reject',
        subjectId: id,
        before: { version, status: 'PENDING_REVIEW' },
        after: { version, status, ...(reason && !decision.approve && { reason }) },
      });
    }
    return moved;
  });
  return moved.count ? { id } : (checkCanReview('APPROVED') as HeraldError);
}

/** Hides the template; messages sent with it keep showing the version they used. */
export async function deleteTemplate(store: TemplateStore, accountId: string, id: string, audit?: AuditActor): Promise<{ id: string } | HeraldError> {
  const deleted = await store.prisma.$transaction(async (tx) => {
    const deleted = await tx.template.updateMany({ where: { id, accountId, deletedAt: null }, data: { deletedAt: new Date() } });
    if (deleted.count && audit) await recordAudit(tx, audit, { action: 'template.delete', subjectId: id });
    return deleted;
  });
  return deleted.count ? { id } : new NotFoundError('template');
}

export interface SendableTemplate {
  id: string;
  /** What SMS_ROUTES match on. */
  name: string;
  versionId: string;
  body: string;
  variables: string[];
  category: TemplateCategory;
}

/** The template a message would be sent with: it must exist in the account and be APPROVED. */
export async function findSendableTemplate(templates: TemplateReads, accountId: string, id: string): Promise<SendableTemplate | HeraldError> {
  const template = await templates.findLive(accountId, id);
  if (!template) return new NotFoundError(`template ${id}`);
  const version = template.currentVersion;
  if (version.status !== 'APPROVED') return new TemplateNotApprovedError(version.status);
  return { id: template.id, name: template.name, versionId: version.id, body: version.body, variables: version.variables, category: template.category };
}

// The audit log over GraphQL (ADMIN): the entries (relay connection, newest first) and their
// CSV export. Recording happens in the services (services/audit.ts); `auditActorOf` is what a
// resolver hands them.
import { resolveCursorConnection } from '@pothos/plugin-relay';
import type { AuditRow } from '../domain/audit.js';
import { ValidationError } from '../domain/errors.js';
import { AUDIT_EXPORT_MAX, auditActor, auditPhoneKey, auditWhere, exportAuditCsv, readAuditPage, type AuditActor, type AuditFilter } from '../services/audit.js';
import { builder } from './builder.js';
import type { Context } from './context.js';

/** The caller as the audit log records it (key, request id, the phone-hash key). */
export const auditActorOf = (ctx: Context): Promise<AuditActor> => auditActor(ctx.auth, ctx.store.secrets, ctx.requestId);

const AuditEntryRef = builder.objectRef<AuditRow>('AuditEntry').implement({
  description: 'One administrative action: who (key id and name), when, what, before and after. Secrets are never kept; phone numbers only masked.',
  fields: (t) => ({
    id: t.string({ description: "The entry's number in the log (larger: later).", resolve: (e) => e.seq.toString() }),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    accountId: t.exposeString('accountId'),
    keyId: t.exposeString('keyId', { nullable: true, description: 'The API key that acted; null for a tool (the CLI), named by keyName.' }),
    keyName: t.exposeString('keyName', { nullable: true, description: "The key's name when it acted." }),
    action: t.exposeString('action', { description: 'apiKey.create, template.approve, provider.update, … (docs/audit.md lists them).' }),
    subjectType: t.exposeString('subjectType'),
    subjectId: t.exposeString('subjectId', { nullable: true }),
    before: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.before ?? null }),
    after: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.after ?? null }),
    requestId: t.exposeString('requestId', { nullable: true, description: 'The x-request-id of the request that made the change (as in the logs).' }),
  }),
});

const AuditLogFilter = builder.inputType('AuditLogFilter', {
  fields: (t) => ({
    action: t.string({ required: false, description: 'One action ("template.approve"), or all of a subject when it ends with "." ("template.").' }),
    keyId: t.id({ required: false }),
    subjectType: t.string({ required: false }),
    subjectId: t.string({ required: false }),
    from: t.field({ type: 'DateTime', required: false, description: 'At or after.' }),
    to: t.field({ type: 'DateTime', required: false, description: 'Before.' }),
    phone: t.string({ required: false, description: 'Entries about this number (it is matched by a keyed hash; the log never stores it).' }),
  }),
});

async function whereFor(ctx: Context, filter: AuditFilter | null | undefined) {
  const where = auditWhere(
    { accountId: ctx.auth.accountId, operator: await ctx.isOperatorAccount(ctx.auth.accountId), phoneKey: await auditPhoneKey(ctx.store.secrets), defaultCountry: ctx.config.defaultCountry },
    filter ?? {},
  );
  if (where instanceof Error) throw where;
  return where;
}

function seqOf(cursor: string | undefined, arg: string): bigint | undefined {
  if (cursor === undefined) return undefined;
  if (!/^\d{1,19}$/.test(cursor)) throw new ValidationError([{ path: [arg], message: 'not a cursor of auditLog' }]);
  return BigInt(cursor);
}

builder.queryFields((t) => ({
  auditLog: t.connection({
    type: AuditEntryRef,
    description:
      "ADMIN only. The account's audit log, newest first (the operator account's ADMIN keys also see every provider and routing change). " +
      'Entries are append-only: nothing changes or deletes them.',
    authScopes: { admin: true },
    args: { filter: t.arg({ type: AuditLogFilter, required: false }) },
    resolve: async (_root, args, ctx) => {
      const where = await whereFor(ctx, args.filter);
      return resolveCursorConnection<Promise<AuditRow[]>>({ args, defaultSize: 50, maxSize: 500, toCursor: (e: AuditRow) => e.seq.toString() }, ({ before, after, limit, inverted }) =>
        // Newest first: `after` a cursor is older (smaller seq), `before` it newer.
        readAuditPage(ctx.prisma, where, { take: limit, beforeSeq: seqOf(after, 'after'), afterSeq: seqOf(before, 'before'), oldestFirst: inverted }),
      );
    },
  }),
  exportAuditLog: t.string({
    description: `ADMIN only. The entries auditLog would list for the filter, as CSV (header: seq,at,account_id,key_id,key_name,action,subject_type,subject_id,before,after,request_id), newest first, at most \`limit\` (default and maximum ${AUDIT_EXPORT_MAX}).`,
    authScopes: { admin: true },
    args: { filter: t.arg({ type: AuditLogFilter, required: false }), limit: t.arg.int({ required: false }) },
    resolve: async (_root, args, ctx) => {
      const limit = args.limit ?? AUDIT_EXPORT_MAX;
      if (limit < 1 || limit > AUDIT_EXPORT_MAX) throw new ValidationError([{ path: ['limit'], message: `must be 1 to ${AUDIT_EXPORT_MAX}` }]);
      return exportAuditCsv(ctx.prisma, await whereFor(ctx, args.filter), limit);
    },
  }),
}));

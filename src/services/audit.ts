// The audit log (docs/audit.md): every administrative action, written by the service that makes
// it, on the same transaction as the change, so a change that rolls back leaves no entry and a
// committed one always has its entry. Entries are made safe here, in one place: values under
// secret-looking keys redacted, phone numbers masked, and a number the action was about kept
// only as a keyed hash (an erasure later never needs to touch the log).
import type { CountryCode } from 'libphonenumber-js';
import { AUDIT_ACTIONS, DEPLOYMENT_SUBJECTS, formatAuditCsv, PHONE_HASH_KEY_SETTING, phoneHash, redactForAudit, type AuditAction, type AuditRow } from '../domain/audit.js';
import type { Auth } from '../domain/api-key.js';
import { InvalidPhoneNumberError } from '../domain/errors.js';
import { normalizePhoneNumber } from '../domain/phone.js';
import { currentLogContext } from '../logging/log-context.js';
import { appendAuditEntry, keyNameOf, readAuditEntries, type AuditWhere } from '../store/audit-log.js';
import type { Db } from '../store/db-client.js';
import type { SecretStore } from '../store/secrets.js';

export { AUDIT_ACTIONS, type AuditAction };

/** The per-install HMAC key of the log's phone hashes (store/secrets.ts). */
export const AUDIT_PHONE_KEY = PHONE_HASH_KEY_SETTING;

/**
 * Who acts: an API key (its name is looked up when the entry is written), or a tool without one
 * (keyId null, keyName says which: "herald keys create"). `phoneKey` is needed only by actions
 * about a phone number; it is read before the transaction (auditActor) so recording never waits
 * on another connection.
 */
export interface AuditActor {
  accountId: string;
  keyId: string | null;
  keyName?: string | null;
  requestId?: string | null;
  phoneKey?: Buffer;
}

export interface AuditRecord {
  action: AuditAction;
  subjectId?: string | null;
  before?: unknown;
  after?: unknown;
  /** The E.164 number the action is about: kept as a keyed hash only (filter `phone`). */
  phone?: string;
}

/** The actor for a request: its key, its request id, and the phone-hash key. */
export async function auditActor(auth: Pick<Auth, 'accountId' | 'keyId'>, secrets: SecretStore, requestId?: string): Promise<AuditActor> {
  return { accountId: auth.accountId, keyId: auth.keyId, requestId: requestId ?? currentLogContext().requestId ?? null, phoneKey: await auditPhoneKey(secrets) };
}

export async function auditPhoneKey(secrets: SecretStore): Promise<Buffer> {
  return Buffer.from(await secrets.getOrCreate(AUDIT_PHONE_KEY), 'hex');
}

/** Appends the entry on `db`: pass the transaction the change is written on. */
export async function recordAudit(db: Db, actor: AuditActor, record: AuditRecord): Promise<void> {
  if (record.phone !== undefined && !actor.phoneKey) throw new Error(`recordAudit(${record.action}): a phone number needs the actor's phoneKey (auditActor)`);
  await appendAuditEntry(db, {
    accountId: actor.accountId,
    keyId: actor.keyId,
    keyName: actor.keyName ?? (actor.keyId ? await keyNameOf(db, actor.keyId) : null),
    action: record.action,
    subjectType: AUDIT_ACTIONS[record.action],
    subjectId: record.subjectId == null ? null : String(redactForAudit(record.subjectId)),
    before: redactForAudit(record.before) ?? null,
    after: redactForAudit(record.after) ?? null,
    phoneHash: record.phone !== undefined ? phoneHash(actor.phoneKey!, record.phone) : null,
    requestId: actor.requestId ?? currentLogContext().requestId ?? null,
  });
}

export interface AuditFilter {
  /** An action ("template.approve"), or every action of a subject when it ends with "." ("template."). */
  action?: string | null;
  keyId?: string | null;
  subjectType?: string | null;
  subjectId?: string | null;
  from?: Date | null;
  to?: Date | null;
  /** Entries about this number (any spelling the API accepts). */
  phone?: string | null;
}

export interface AuditViewer {
  accountId: string;
  /** The operator account also sees the deployment's entries (providers, routing), whoever made them. */
  operator: boolean;
  phoneKey: Buffer;
  defaultCountry?: string;
}

/** What a viewer may see, narrowed by the filter; an unreadable `phone` is an error. */
export function auditWhere(viewer: AuditViewer, filter: AuditFilter = {}): AuditWhere | InvalidPhoneNumberError {
  const conditions: AuditWhere[] = [
    viewer.operator ? { OR: [{ accountId: viewer.accountId }, { subjectType: { in: [...DEPLOYMENT_SUBJECTS] } }] } : { accountId: viewer.accountId },
  ];
  if (filter.action) conditions.push({ action: filter.action.endsWith('.') ? { startsWith: filter.action } : filter.action });
  if (filter.keyId) conditions.push({ keyId: filter.keyId });
  if (filter.subjectType) conditions.push({ subjectType: filter.subjectType });
  if (filter.subjectId) conditions.push({ subjectId: filter.subjectId });
  if (filter.from) conditions.push({ at: { gte: filter.from } });
  if (filter.to) conditions.push({ at: { lt: filter.to } });
  if (filter.phone) {
    const parsed = normalizePhoneNumber(filter.phone, viewer.defaultCountry as CountryCode | undefined);
    if (!parsed.ok) return parsed.error;
    conditions.push({ phoneHash: phoneHash(viewer.phoneKey, parsed.e164) });
  }
  return { AND: conditions };
}

/** A page of entries, newest first, older than `beforeSeq` (relay's `after`). */
export function readAuditPage(db: Db, where: AuditWhere, page: { take: number; beforeSeq?: bigint; afterSeq?: bigint; oldestFirst?: boolean }): Promise<AuditRow[]> {
  return readAuditEntries(db, where, page);
}

export const AUDIT_EXPORT_MAX = 100_000;
const EXPORT_PAGE = 1000;

/** The entries as CSV, newest first, at most `limit` (read a page at a time). */
export async function exportAuditCsv(db: Db, where: AuditWhere, limit: number): Promise<string> {
  const rows: AuditRow[] = [];
  let beforeSeq: bigint | undefined;
  while (rows.length < limit) {
    const page = await readAuditEntries(db, where, { take: Math.min(EXPORT_PAGE, limit - rows.length), beforeSeq });
    rows.push(...page);
    if (page.length < EXPORT_PAGE) break;
    beforeSeq = page.at(-1)!.seq;
  }
  return formatAuditCsv(rows);
}

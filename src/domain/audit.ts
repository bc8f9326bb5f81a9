// The audit log's rules that need no database: which actions exist (and what each is about),
// how a value is made safe to keep (no secret, no phone number), how a number is found again
// without being stored (a keyed hash), and the CSV form of entries.
import { createHmac } from 'node:crypto';
import { csvLine } from './csv-records.js';
import { maskPhoneNumber } from './phone-mask.js';

/**
 * Every action the log records, with the type of subject it is about. Adding an administrative
 * mutation means adding its action here and recording it (test/unit/audit-coverage.test.ts
 * fails on an ADMIN mutation that has none).
 */
export const AUDIT_ACTIONS = {
  'apiKey.create': 'apiKey',
  'apiKey.revoke': 'apiKey',
  'template.create': 'template',
  'template.update': 'template',
  'template.submit': 'template',
  'template.approve': 'template',
  'template.reject': 'template',
  'template.delete': 'template',
  'template.mapProvider': 'template',
  'settings.update': 'accountSettings',
  'sensitiveWord.add': 'sensitiveWordRule',
  'sensitiveWord.remove': 'sensitiveWordRule',
  'optOut.add': 'optOut',
  'optOut.remove': 'optOut',
  'senderIdentity.add': 'senderIdentity',
  'senderIdentity.remove': 'senderIdentity',
  'price.set': 'price',
  'price.remove': 'price',
  'price.import': 'price',
  'budget.set': 'budget',
  'budget.remove': 'budget',
  'provider.add': 'provider',
  'provider.update': 'provider',
  'provider.enable': 'provider',
  'provider.disable': 'provider',
  'provider.remove': 'provider',
  'routing.set': 'routing',
  'routing.reset': 'routing',
  'webhookEndpoint.create': 'webhookEndpoint',
  'webhookEndpoint.update': 'webhookEndpoint',
  'webhookEndpoint.delete': 'webhookEndpoint',
  'webhookEndpoint.rotateSecret': 'webhookEndpoint',
  'webhookDelivery.retry': 'webhookDelivery',
  'simulator.inbound': 'inboundMessage',
  'retention.set': 'retentionPolicy',
  /** A backup of the embedded database taken through GET /admin/backup (http/backup-route.ts). */
  'backup.download': 'backup',
  /** The erasure of a recipient's data (the subject is the masked number). */
  'recipient.erase': 'recipient',
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;
export type AuditSubjectType = (typeof AUDIT_ACTIONS)[AuditAction];

/** Subjects that are the deployment's, not one account's: the operator account sees them all. */
export const DEPLOYMENT_SUBJECTS: readonly AuditSubjectType[] = ['provider', 'routing'];

export const REDACTED = '[REDACTED]';

// A key naming a secret: its value is never kept, only that it was there. `…Fields` (the names
// of a provider's credential fields) and booleans (`secretRotated: true`) say nothing secret.
const SECRET_KEY = /secret|password|passphrase|token|credential|private|apikey|sealed|authorization/i;
// A whole string that is an E.164 number (the shape every number has once normalised).
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * A copy of `value` safe to keep in the log: values under secret-looking keys replaced by
 * REDACTED, E.164 numbers masked (+86 138****8000), Dates as ISO text, bigints as text. Callers
 * already leave secrets out (they record field names); this is the net under them.
 */
export function redactForAudit(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return value;
  if (SECRET_KEY.test(key) && !/Fields$/.test(key) && typeof value !== 'boolean') return REDACTED;
  if (typeof value === 'string') return E164.test(value) ? maskPhoneNumber(value) : value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactForAudit(v));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, redactForAudit(v, k)]));
  return value;
}

/** The keyed hash an entry is found by number with (hex HMAC-SHA256 of the E.164 number). */
/** The per-install setting holding the key of `phoneHash` (the audit log and erased opt-outs share it). */
export const PHONE_HASH_KEY_SETTING = 'audit.phoneHashKey';

export function phoneHash(key: Buffer, e164: string): string {
  return createHmac('sha256', key).update(e164).digest('hex');
}

export interface AuditRow {
  seq: bigint;
  at: Date;
  accountId: string;
  keyId: string | null;
  keyName: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export const AUDIT_CSV_HEADER = ['seq', 'at', 'account_id', 'key_id', 'key_name', 'action', 'subject_type', 'subject_id', 'before', 'after', 'request_id'] as const;

/** Entries as CSV (RFC 4180, header first); before/after as JSON text; safe to open in a spreadsheet. */
export function formatAuditCsv(rows: readonly AuditRow[]): string {
  const json = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));
  return (
    csvLine([...AUDIT_CSV_HEADER]) +
    rows
      .map((r) =>
        csvLine([r.seq.toString(), r.at.toISOString(), r.accountId, r.keyId ?? '', r.keyName ?? '', r.action, r.subjectType, r.subjectId ?? '', json(r.before), json(r.after), r.requestId ?? ''], { forSpreadsheets: true }),
      )
      .join('')
  );
}

// Run-time configuration as stored: provider definitions (credentials sealed by the caller), the
// routing document that replaces SMS_ROUTES, and the log of changes whose last number is the
// configuration's version. Every write records its change in the same transaction, so the log
// and what it describes never disagree; services/configuration.ts announces it after commit.
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from './db-client.js';

export interface StoredProviderRow {
  name: string;
  kind: string;
  settings: unknown;
  sealedCredentials: Uint8Array | null;
  enabled: boolean;
  updatedAt: Date;
}

export interface ConfigurationSnapshot {
  /** The number of the last change of providers or routing (0: none yet); prices' changes share the sequence. */
  version: number;
  providers: StoredProviderRow[];
  /** The routing document set at run time, or null (SMS_ROUTES applies). */
  routing: { document: unknown; updatedAt: Date } | null;
}

export interface ChangeRecord {
  subject: string;
  action: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Everything a reload needs. The version is read first: a change committed between the reads
 * gives rows newer than the version, and its own announcement (a higher version) reloads again.
 */
export async function readConfiguration(db: Db): Promise<ConfigurationSnapshot> {
  const version = await readConfigurationVersion(db);
  const providers = await db.providerDefinition.findMany({ orderBy: { name: 'asc' } });
  const routing = await db.routingDocument.findUnique({ where: { id: 1 } });
  return { version, providers, routing: routing && { document: routing.document, updatedAt: routing.updatedAt } };
}

/** SMS_PROVIDERS' names and those defined at run time (what a price or a mapping may name). */
export async function definedProviderNames(db: Db, environment: readonly string[]): Promise<string[]> {
  const stored = await db.providerDefinition.findMany({ select: { name: true }, orderBy: { name: 'asc' } });
  return [...new Set([...environment, ...stored.map((r) => r.name)])];
}

/** The current version only: the cheap check the reload loop makes between notifications. */
export async function readConfigurationVersion(db: Db): Promise<number> {
  // Price changes share the log's sequence but are no part of what a process reloads.
  const last = await db.configChange.findFirst({ where: { NOT: { subject: { startsWith: 'price:' } } }, orderBy: { version: 'desc' }, select: { version: true } });
  return last?.version ?? 0;
}

/** Who made a change: an API key (its name is looked up), or a named tool such as the CLI. */
export type Author = { accountId: string; keyId: string } | { accountId: string; keyId: null; keyName: string };

/** Appends a change to the log; returns its version. */
export async function recordChange(db: Db, author: Author, change: ChangeRecord): Promise<number> {
  const keyName = author.keyId === null ? author.keyName : ((await db.apiKey.findUnique({ where: { id: author.keyId }, select: { name: true } }))?.name ?? null);
  const row = await db.configChange.create({
    data: { accountId: author.accountId, keyId: author.keyId, keyName, subject: change.subject, action: change.action, before: json(change.before), after: json(change.after) },
    select: { version: true },
  });
  return row.version;
}

function json(value: unknown): Prisma.InputJsonValue | undefined {
  return value === undefined || value === null ? undefined : (value as Prisma.InputJsonValue);
}

/**
 * Serialises configuration writes across processes and instances (an advisory lock for the
 * transaction): two admins editing at once are applied one after the other, each validated
 * against what the other committed.
 */
export async function lockConfiguration(tx: Db): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('herald.configuration'))`;
}

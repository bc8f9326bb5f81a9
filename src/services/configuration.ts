// Run-time configuration changes: providers added, changed, disabled and removed, and the routing
// document set or reset, through GraphQL (schema/configuration.ts). Each change is validated
// against the configuration as it is in the database (under a lock, so two admins at once are
// applied in turn), written with its entry in the change log (who, when, before and after, never
// a secret) and announced, so every process reloads it (services/live-configuration.ts).
import { checkRoutingDocument, providersNamedBy } from '../config/routes.js';
import type { PrismaClient } from '../db/database.js';
import { NotFoundError, ProviderInUseError, UnknownProviderError, ValidationError } from '../domain/errors.js';
import {
  credentialFields,
  effectiveProviders,
  openDefinitions,
  sealCredentials,
  parseDefinition,
  splitSpec,
  type EffectiveProvider,
  type ProviderKind,
  type ProviderSpec,
  type StoredDefinition,
} from '../domain/provider-definitions.js';
import { lockConfiguration, readConfiguration, recordChange, type Author, type ChangeRecord } from '../store/configuration.js';
import type { Tx } from '../store/db-client.js';
import { announceChange } from '../store/invalidation.js';
import { recordAudit, type AuditAction, type AuditRecord } from './audit.js';

export interface ConfigurationDeps {
  prisma: PrismaClient;
  /** The environment's providers (SMS_PROVIDERS) and SMS_ROUTES (parsed JSON or undefined). */
  environment: { providers: readonly ProviderSpec[]; routes: unknown };
  sealKey: Buffer;
}

export interface ProviderInput {
  name: string;
  kind: ProviderKind;
  settings?: unknown;
  credentials?: unknown;
  enabled?: boolean;
}

export interface ProviderChange {
  settings?: unknown;
  credentials?: unknown;
  enabled?: boolean;
}

/** What a change returns: the version it made. */
export interface Applied {
  version: number;
}

/** Adds a provider that neither SMS_PROVIDERS nor an earlier addProvider defined. */
export async function addProvider(deps: ConfigurationDeps, author: Author, input: ProviderInput): Promise<Applied | ValidationError> {
  const parsed = parseDefinition({ name: input.name, kind: input.kind, settings: input.settings ?? {}, credentials: input.credentials ?? {} });
  if (!parsed.ok) return new ValidationError(parsed.issues.map((i) => ({ ...i, path: ['input', ...i.path] })));
  return change<ValidationError>(deps, author, async (tx, inForce) => {
    if (inForce.some((p) => p.spec.name === input.name)) return new ValidationError([{ path: ['input', 'name'], message: `a provider named ${input.name} exists; change it with updateProvider` }]);
    const enabled = input.enabled ?? true;
    await tx.providerDefinition.create({ data: { name: input.name, kind: input.kind, ...stored(deps, parsed.spec), enabled } });
    return { subject: `provider:${input.name}`, action: 'ADD', after: shown(parsed.spec, enabled) };
  });
}

/**
 * Changes a provider's settings, credentials or enabled state. Omitted parts stay as they are;
 * `settings` replaces the settings as a whole. A provider from SMS_PROVIDERS gets a run-time
 * definition that replaces the environment's (its credentials stay the environment's unless given).
 */
export async function updateProvider(deps: ConfigurationDeps, author: Author, name: string, input: ProviderChange): Promise<Applied | ValidationError | NotFoundError> {
  return change<ValidationError | NotFoundError>(deps, author, async (tx, inForce, rows) => {
    const current = inForce.find((p) => p.spec.name === name);
    if (!current) return new NotFoundError(`provider ${name}`);
    const now = splitSpec(current.spec);
    const row = rows.find((r) => r.name === name);
    const envSpec = deps.environment.providers.find((s) => s.name === name && s.kind === current.spec.kind);
    // Credentials not given: the stored ones, or (none stored) the environment's.
    const credentials = input.credentials ?? row?.credentials ?? (envSpec ? undefined : now.credentials);
    const parsed = parseDefinition(
      { name, kind: current.spec.kind, settings: input.settings ?? now.settings, credentials },
      envSpec ? splitSpec(envSpec).credentials : undefined,
    );
    if (!parsed.ok) return new ValidationError(parsed.issues.map((i) => ({ ...i, path: ['input', ...i.path] })));
    const enabled = input.enabled ?? current.enabled;
    const sealed = input.credentials !== undefined || !envSpec ? stored(deps, parsed.spec) : { settings: splitSpec(parsed.spec).settings as object, sealedCredentials: row?.credentials ? sealCredentials(deps.sealKey, row.credentials) : null };
    const data = { kind: current.spec.kind, ...sealed, enabled, updatedAt: new Date() };
    await tx.providerDefinition.upsert({ where: { name }, create: { name, ...data }, update: data });
    const action = input.enabled !== undefined && input.enabled !== current.enabled && input.settings === undefined && input.credentials === undefined ? (enabled ? 'ENABLE' : 'DISABLE') : 'UPDATE';
    return {
      subject: `provider:${name}`,
      action,
      before: shown(current.spec, current.enabled),
      after: { ...shown(parsed.spec, enabled), ...(input.credentials !== undefined && { credentialsChanged: true }) },
    };
  });
}

/**
 * Removes a run-time definition. For a provider from SMS_PROVIDERS this brings the environment's
 * definition back; a provider only defined at run time is refused while the routing names it.
 */
export async function removeProvider(deps: ConfigurationDeps, author: Author, name: string): Promise<Applied | NotFoundError | ProviderInUseError | ValidationError> {
  return change<NotFoundError | ProviderInUseError | ValidationError>(deps, author, async (tx, inForce, rows, routingDocument) => {
    const row = rows.find((r) => r.name === name);
    const fromEnvironment = deps.environment.providers.some((s) => s.name === name);
    if (!row) {
      if (fromEnvironment) return new ValidationError([{ path: ['name'], message: `${name} comes from SMS_PROVIDERS; disable it with updateProvider(enabled: false), or remove it from the environment` }]);
      return new NotFoundError(`provider ${name}`);
    }
    if (!fromEnvironment) {
      const defined = inForce.map((p) => p.spec.name);
      const routing = checkRoutingDocument(routingDocument ?? deps.environment.routes, defined);
      if (routing.ok && providersNamedBy(routing.config).has(name)) return new ProviderInUseError(name);
    }
    await tx.providerDefinition.delete({ where: { name } });
    const before = inForce.find((p) => p.spec.name === name)!;
    return { subject: `provider:${name}`, action: 'REMOVE', before: shown(before.spec, before.enabled) };
  });
}

/** Replaces the routing (SMS_ROUTES' document) until resetRouting. */
export async function setRouting(deps: ConfigurationDeps, author: Author, document: unknown): Promise<Applied | ValidationError | UnknownProviderError> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return new ValidationError([{ path: ['document'], message: 'must be a JSON object like SMS_ROUTES ({"routes": [...], "providers": {...}, "circuit": {...}})' }]);
  }
  return change<ValidationError | UnknownProviderError>(deps, author, async (tx, inForce, _rows, before) => {
    const defined = inForce.map((p) => p.spec.name);
    const checked = checkRoutingDocument(document, defined);
    if (!checked.ok) {
      if (checked.unknownProviders.length) return new UnknownProviderError(checked.unknownProviders, defined);
      return new ValidationError(checked.issues.map((i) => ({ path: ['document', ...i.path], message: i.message })));
    }
    const json = document as object;
    await tx.routingDocument.upsert({ where: { id: 1 }, create: { id: 1, document: json }, update: { document: json, updatedAt: new Date() } });
    return { subject: 'routes', action: 'SET', before: before ?? undefined, after: document };
  });
}

/** Drops the routing set at run time: SMS_ROUTES applies again. */
export async function resetRouting(deps: ConfigurationDeps, author: Author): Promise<Applied | NotFoundError> {
  return change<NotFoundError>(deps, author, async (tx, _inForce, _rows, before) => {
    if (before === null) return new NotFoundError('a routing set at run time');
    await tx.routingDocument.delete({ where: { id: 1 } });
    return { subject: 'routes', action: 'RESET', before };
  });
}

/**
 * Runs one change under the configuration lock: `body` sees the providers in force and the
 * stored definitions as committed, writes, and says what to log (or returns an error, and
 * nothing is written). The change is announced after the commit.
 */
async function change<E extends Error>(
  deps: ConfigurationDeps,
  author: Author,
  body: (tx: Tx, inForce: EffectiveProvider[], rows: StoredDefinition[], routing: unknown) => Promise<E | ChangeRecord>,
): Promise<Applied | E> {
  const outcome = await deps.prisma.$transaction(async (tx): Promise<Applied | E> => {
    await lockConfiguration(tx);
    const snapshot = await readConfiguration(tx);
    const rows = openDefinitions(deps.sealKey, snapshot.providers);
    const inForce = effectiveProviders(deps.environment.providers, rows);
    const result = await body(tx, inForce, rows, snapshot.routing?.document ?? null);
    if (result instanceof Error) return result;
    const version = await recordChange(tx, author, result);
    await recordAudit(tx, author, auditOfChange(result));
    return { version };
  });
  if (!(outcome instanceof Error)) await announceChange(deps.prisma, 'config', String(outcome.version));
  return outcome;
}

/** A definition as stored: settings in clear, credentials sealed (null when the kind has none). */
function stored(deps: ConfigurationDeps, spec: ProviderSpec): { settings: object; sealedCredentials: Uint8Array<ArrayBuffer> | null } {
  const { settings, credentials } = splitSpec(spec);
  return { settings, sealedCredentials: Object.keys(credentials).length ? sealCredentials(deps.sealKey, credentials) : null };
}

/** What the change log keeps of a definition: its settings and which secret fields it has, never their values. */
function shown(spec: ProviderSpec, enabled: boolean): Record<string, unknown> {
  return { kind: spec.kind, enabled, settings: splitSpec(spec).settings, credentialFields: credentialFields(spec.kind) };
}

/** The audit entry of a configuration change: the same before and after as the change log. */
function auditOfChange(change: ChangeRecord): AuditRecord {
  const provider = change.subject.startsWith('provider:') ? change.subject.slice('provider:'.length) : null;
  const action = (provider ? `provider.${change.action.toLowerCase()}` : `routing.${change.action.toLowerCase()}`) as AuditAction;
  return { action, subjectId: provider, before: change.before, after: change.after };
}

// What a provider is, as configuration: a name, the adapter it runs (its kind), that kind's
// settings and its secret credentials. Two sources give them: the environment (SMS_PROVIDERS and
// the TWILIO_*/ALIYUN_*/… variables, read at start) and run-time definitions made through GraphQL
// (services/configuration.ts, stored in ProviderDefinition with the credentials sealed). A run-time
// definition with the name of an environment provider replaces it; `effectiveProviders` merges
// the two. Pure: validation and merging, tested without a database.
import { z } from 'zod';
import type { AliyunConfig, Config, SmppConfig, TencentConfig, TwilioConfig } from '../config/config.js';
import { simulatorBehaviourSchema, type SimulatorBehaviourSettings } from '../config/simulators.js';
import type { ValidationIssue } from './errors.js';
import { openSealed, sealText } from './sealing.js';

export const PROVIDER_KINDS = ['simulator', 'twilio', 'aliyun', 'tencent', 'smpp'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** The simulator's own settings: reports' delay and batching, and how good it is (SIMULATORS' behaviour). */
export interface SimulatorSettings {
  reportDelayMs?: number;
  reportBatchMs?: number;
  behaviour?: SimulatorBehaviourSettings;
}

/** What the registry (providers/registry.ts) builds an adapter from. */
export type ProviderSpec =
  | { name: string; kind: 'simulator'; options: SimulatorSettings }
  | { name: string; kind: 'twilio'; options: TwilioConfig }
  | { name: string; kind: 'aliyun'; options: AliyunConfig }
  | { name: string; kind: 'tencent'; options: TencentConfig }
  | { name: string; kind: 'smpp'; options: SmppConfig };

export type ProviderSource = 'ENVIRONMENT' | 'RUNTIME';

/** One provider as it is in force: its spec, where it comes from and whether it carries traffic. */
export interface EffectiveProvider {
  spec: ProviderSpec;
  source: ProviderSource;
  enabled: boolean;
  updatedAt: Date | null;
}

export const providerName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'provider names are lower-case words (a-z, 0-9, -), at most 40 characters');

const httpUrl = z.url({ protocol: /^https?$/ }).transform((v) => v.replace(/\/+$/, ''));
const token = z.string().min(16, 'must be at least 16 characters');
const nonEmpty = z.string().min(1);

/**
 * Each kind's fields, split into settings (readable back) and credentials (sealed, write-only).
 * The names and defaults are those of the environment variables (docs/providers.md).
 */
const kinds = {
  simulator: {
    settings: z
      .object({
        reportDelayMs: z.number().int().min(0).max(3_600_000).optional(),
        reportBatchMs: z.number().int().min(0).max(1000).optional(),
        behaviour: simulatorBehaviourSchema.optional(),
      })
      .strict(),
    credentials: z.object({}).strict(),
  },
  twilio: {
    settings: z
      .object({ from: nonEmpty.optional(), messagingServiceSid: nonEmpty.optional(), apiBaseUrl: httpUrl.default('https://api.twilio.com') })
      .strict()
      .refine((s) => s.from || s.messagingServiceSid, { message: 'from or messagingServiceSid is required', path: ['from'] }),
    credentials: z.object({ accountSid: nonEmpty, authToken: nonEmpty }).strict(),
  },
  aliyun: {
    settings: z.object({ signName: nonEmpty, endpoint: httpUrl.default('https://dysmsapi.aliyuncs.com') }).strict(),
    credentials: z.object({ accessKeyId: nonEmpty, accessKeySecret: nonEmpty, callbackToken: token }).strict(),
  },
  tencent: {
    settings: z
      .object({ smsSdkAppId: nonEmpty, signName: nonEmpty, region: nonEmpty.default('ap-guangzhou'), endpoint: httpUrl.default('https://sms.tencentcloudapi.com') })
      .strict(),
    credentials: z.object({ secretId: nonEmpty, secretKey: nonEmpty, callbackToken: token }).strict(),
  },
  smpp: {
    settings: z
      .object({ sourceAddr: nonEmpty.optional(), window: z.number().int().min(1).max(1000).default(10), enquireLinkMs: z.number().int().min(100).default(30_000) })
      .strict(),
    credentials: z
      .object({ url: z.string().regex(/^smpps?:\/\/[^:@/]+:[^@/]*@[^:/]+:\d+\/?$/, 'must look like smpp://system_id:password@host:port') })
      .strict(),
  },
} satisfies Record<ProviderKind, { settings: z.ZodType; credentials: z.ZodType }>;

/** The names of a kind's secret fields (never shown, never logged). */
export function credentialFields(kind: ProviderKind): string[] {
  return Object.keys(kinds[kind].credentials.shape);
}

export interface DefinitionInput {
  name: string;
  kind: ProviderKind;
  settings: unknown;
  credentials: unknown;
}

/**
 * Validates a run-time definition; issues name their place (`settings.from`,
 * `credentials.authToken`). Credentials may be `undefined` only when `inherited` supplies them
 * (a definition replacing an environment provider of the same kind keeps its secrets).
 */
export function parseDefinition(input: DefinitionInput, inherited?: Record<string, unknown>): { ok: true; spec: ProviderSpec } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const name = providerName.safeParse(input.name);
  if (!name.success) issues.push({ path: ['name'], message: name.error.issues[0]!.message });
  const kind = kinds[input.kind];
  if (!kind) return { ok: false, issues: [...issues, { path: ['kind'], message: `is not one of ${PROVIDER_KINDS.join(', ')}` }] };
  const settings = kind.settings.safeParse(input.settings ?? {});
  if (!settings.success) issues.push(...settings.error.issues.map((i) => ({ path: ['settings', ...i.path.map(String)], message: i.message })));
  const credentials = kind.credentials.safeParse(input.credentials ?? inherited ?? {});
  if (!credentials.success) issues.push(...credentials.error.issues.map((i) => ({ path: ['credentials', ...i.path.map(String)], message: i.message })));
  if (issues.length > 0 || !settings.success || !credentials.success) return { ok: false, issues };
  return { ok: true, spec: { name: input.name, kind: input.kind, options: { ...settings.data, ...credentials.data } } as ProviderSpec };
}

/** A spec's fields split back into what may be shown and what is secret. */
export function splitSpec(spec: ProviderSpec): { settings: Record<string, unknown>; credentials: Record<string, unknown> } {
  const secret = new Set(credentialFields(spec.kind));
  const settings: Record<string, unknown> = {};
  const credentials: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec.options)) {
    if (value === undefined) continue;
    (secret.has(key) ? credentials : settings)[key] = value;
  }
  return { settings, credentials };
}

/** The providers SMS_PROVIDERS names, with their environment settings. */
export function environmentSpecs(config: Config): ProviderSpec[] {
  const section = <T>(name: string, value: T | undefined): T => {
    if (!value) throw new Error(`SMS_PROVIDERS names ${name} but its settings are missing (see docs/providers.md)`);
    return value;
  };
  return config.providers.map((name): ProviderSpec => {
    switch (name) {
      case 'simulator':
        return { name, kind: 'simulator', options: { reportDelayMs: config.simulatorDelayMs, reportBatchMs: config.simulatorReportBatchMs } };
      case 'twilio':
        return { name, kind: 'twilio', options: section(name, config.twilio) };
      case 'aliyun':
        return { name, kind: 'aliyun', options: section(name, config.aliyun) };
      case 'tencent':
        return { name, kind: 'tencent', options: section(name, config.tencent) };
      case 'smpp':
        return { name, kind: 'smpp', options: section(name, config.smpp) };
      default: {
        // A simulator of SIMULATORS, under its own name.
        const behaviour = config.simulators[name];
        if (behaviour) return { name, kind: 'simulator', options: { reportDelayMs: config.simulatorDelayMs, reportBatchMs: config.simulatorReportBatchMs, behaviour } };
        const extra = Object.keys(config.simulators);
        throw new Error(`SMS_PROVIDERS names "${name}", which this version of Herald does not have (available: ${[...PROVIDER_KINDS, ...extra].join(', ')}; SIMULATORS defines more)`);
      }
    }
  });
}

/** A stored run-time definition, its credentials already opened. */
export interface StoredDefinition {
  name: string;
  kind: string;
  settings: unknown;
  /** Undefined: none stored (inherits the environment provider's of the same name and kind). */
  credentials: Record<string, unknown> | undefined;
  enabled: boolean;
  updatedAt: Date;
}

/** A definition as its table row holds it: the credentials sealed (AES-256-GCM, domain/sealing.ts). */
export interface SealedDefinition extends Omit<StoredDefinition, 'credentials'> {
  sealedCredentials: Uint8Array | null;
}

/** Seals a definition's credentials for its row (JSON, AES-256-GCM under the per-install key). */
export function sealCredentials(key: Buffer, credentials: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  return new Uint8Array(sealText(key, JSON.stringify(credentials)));
}

/** Rows as stored, their credentials opened (what effectiveProviders works from). */
export function openDefinitions(key: Buffer, rows: readonly SealedDefinition[]): StoredDefinition[] {
  return rows.map(({ sealedCredentials, ...row }) => ({
    ...row,
    credentials: sealedCredentials ? (JSON.parse(openSealed(key, sealedCredentials)) as Record<string, unknown>) : undefined,
  }));
}

/**
 * The providers in force: the environment's, in SMS_PROVIDERS order, each replaced by a run-time
 * definition of the same name; then the run-time-only ones by name. A stored definition that no
 * longer validates (written by another version) is left out and reported through `invalid`.
 */
export function effectiveProviders(environment: readonly ProviderSpec[], stored: readonly StoredDefinition[], invalid: (name: string, issues: ValidationIssue[]) => void = () => {}): EffectiveProvider[] {
  const byName = new Map(stored.map((s) => [s.name, s]));
  const fromStored = (s: StoredDefinition, base?: ProviderSpec): EffectiveProvider | undefined => {
    const inherited = base && base.kind === s.kind ? splitSpec(base).credentials : undefined;
    const parsed = parseDefinition({ name: s.name, kind: s.kind as ProviderKind, settings: s.settings, credentials: s.credentials }, inherited);
    if (!parsed.ok) return void invalid(s.name, parsed.issues);
    return { spec: parsed.spec, source: 'RUNTIME', enabled: s.enabled, updatedAt: s.updatedAt };
  };
  const result: EffectiveProvider[] = [];
  for (const spec of environment) {
    const override = byName.get(spec.name);
    result.push((override && fromStored(override, spec)) ?? { spec, source: 'ENVIRONMENT', enabled: true, updatedAt: null });
  }
  const envNames = new Set(environment.map((s) => s.name));
  for (const s of [...stored].sort((a, b) => a.name.localeCompare(b.name))) {
    if (envNames.has(s.name)) continue;
    const provider = fromStored(s);
    if (provider) result.push(provider);
  }
  return result;
}

/** Same spec, same adapter: a reload keeps an adapter whose spec this gives the same string for. */
export function specKey(spec: ProviderSpec): string {
  return JSON.stringify([spec.name, spec.kind, Object.entries(spec.options).sort(([a], [b]) => a.localeCompare(b))]);
}

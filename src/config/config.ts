// The environment, read once at start and validated; nothing else reads process.env.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseRoutingConfig, RoutingConfigError } from './routes.js';
import { parseSimulators, SimulatorsConfigError, type SimulatorBehaviourSettings } from './simulators.js';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from './retry-schedule.js';

const boolean = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('./.herald'),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL')
    .optional(),
  SMS_PROVIDERS: z
    .string()
    .default('simulator')
    .transform((v) => v.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'provider names are lower-case words')).min(1)),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `masked` (+86 138****8000) everywhere in log lines; `full` only for local debugging. */
  LOG_PHONE_NUMBERS: z.enum(['masked', 'full']).default('masked'),
  MAX_BODY_LENGTH: z.coerce.number().int().min(1).max(100_000).default(1600),
  DEFAULT_COUNTRY: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 country code like US or CN')
    .optional(),
  BOOTSTRAP_ADMIN_KEY: boolean.default(true),
  /** The account whose ADMIN keys may change deployment-wide settings (providers, routing). */
  OPERATOR_ACCOUNT: z.string().min(1).default('default'),
  DISPATCH: z.enum(['on', 'off']).default('on'),
  /**
   * HTTP worker processes beside the one that dispatches (app/cluster.ts). On PostgreSQL the
   * default is one per core; 0 serves HTTP and dispatches in one process, as the embedded
   * database always does (it can be opened by one process only).
   */
  HTTP_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  DISPATCH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  DISPATCH_RETRY_BASE_MS: z.coerce.number().int().min(1).default(1000),
  DISPATCH_RETRY_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  DISPATCH_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  DISPATCH_POLL_MS: z.coerce.number().int().min(10).default(500),
  SIMULATOR_DELAY_MS: z.coerce.number().int().min(0).default(50),
  /** Reports falling due this close together share one signed callback (0: one request per message). */
  SIMULATOR_REPORT_BATCH_MS: z.coerce.number().int().min(0).max(1000).default(10),
  /** How long one provider call may take before it counts as a timeout. */
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(10).default(10_000),
  /** Routing rules, failover order and per-provider limits (JSON; see docs/providers.md, "Routing"). */
  SMS_ROUTES: z.string().optional(),
  /** SENT messages without a final report are polled at the provider after this long. */
  RECONCILE_AFTER_MS: z.coerce.number().int().min(1_000).default(10 * 60_000),
  /** SENT messages without a final report become EXPIRED (synthetic) after this long. */
  DELIVERY_REPORT_DEADLINE_MS: z.coerce.number().int().min(1_000).default(72 * 3600_000),
  /** How often the reconciler looks for overdue messages. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** How often the dispatching processes ask providers what finished messages cost (0: never). */
  ACTUAL_COST_POLL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Messages sent longer ago than this are no longer asked about. */
  ACTUAL_COST_WINDOW_MS: z.coerce.number().int().min(1_000).default(24 * 3600_000),
  /** The wait before asking again about a message not rated yet; each later wait is 3 times longer. */
  ACTUAL_COST_RETRY_MS: z.coerce.number().int().min(1).default(5 * 60_000),
  /** Asks per message at most. */
  ACTUAL_COST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** How often messageStats' rollup loop looks for days to roll up (0: this process never does). */
  STATS_ROLLUP_POLL_MS: z.coerce.number().int().min(0).default(60_000),
  /** How often retention applies every account's policy; 0 turns the loop off in this process. */
  RETENTION_POLL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** How often each process adds its provider-quality counts into the database (0: only at stop, for tests). */
  QUALITY_FLUSH_MS: z.coerce.number().int().min(0).default(2_000),
  /**
   * Length of one provider-quality bucket (a "minute"); the windows are 5, 60 and 1 440 buckets.
   * Only tests and benchmarks shorten it, to compress time (docs/providers.md, "Measured quality").
   */
  QUALITY_BUCKET_MS: z.coerce.number().int().min(100).max(60_000).default(60_000),
  /** Extra simulator providers and their behaviour (JSON; see src/config/simulators.ts). */
  SIMULATORS: z.string().optional(),
  /** Outgoing webhooks: delays before each retry (e.g. 5s,5m,2h; see src/outgoing-webhooks/schedule.ts). */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default(DEFAULT_RETRY_SCHEDULE)
    .transform((v, ctx) => {
      try {
        return parseRetrySchedule(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).default(1_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** An endpoint is disabled after this many deliveries in a row failed every attempt… */
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(20),
  /** …or when every attempt failed for this long. */
  WEBHOOK_DISABLE_AFTER_MS: z.coerce.number().int().min(1).default(24 * 3600_000),
  /** Endpoints may be loopback, private or link-local addresses (receivers on the operator's own network). */
  WEBHOOK_ALLOW_PRIVATE_URLS: boolean.default(false),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_FROM: z.string().optional(),
  TWILIO_MESSAGING_SERVICE_SID: z.string().optional(),
  TWILIO_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
  ALIYUN_ACCESS_KEY_ID: z.string().optional(),
  ALIYUN_ACCESS_KEY_SECRET: z.string().optional(),
  ALIYUN_SIGN_NAME: z.string().optional(),
  ALIYUN_ENDPOINT: z.url({ protocol: /^https?$/ }).default('https://dysmsapi.aliyuncs.com'),
  ALIYUN_CALLBACK_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TENCENT_SECRET_ID: z.string().optional(),
  TENCENT_SECRET_KEY: z.string().optional(),
  TENCENT_SMS_SDK_APP_ID: z.string().optional(),
  TENCENT_SIGN_NAME: z.string().optional(),
  TENCENT_REGION: z.string().default('ap-guangzhou'),
  TENCENT_ENDPOINT: z.url({ protocol: /^https?$/ }).default('https://sms.tencentcloudapi.com'),
  TENCENT_CALLBACK_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SMPP_URL: z
    .string()
    .refine((v) => /^smpps?:\/\/[^:@/]+:[^@/]*@[^:/]+:\d+\/?$/.test(v), 'must look like smpp://system_id:password@host:port')
    .optional(),
  SMPP_SOURCE_ADDR: z.string().optional(),
  SMPP_WINDOW: z.coerce.number().int().min(1).max(1000).default(10),
  SMPP_ENQUIRE_LINK_MS: z.coerce.number().int().min(100).default(30_000),
  // Security limits (docs/security.md, "Query limits"). Defaults are several times what the SDK's and
  // the test suite's deepest real queries need; introspection is exempt from depth and cost.
  /** Largest POST /graphql body and graphql-ws message, in bytes. */
  MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(15),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(30),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).default(5_000),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(50),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(50_000),
  /** When set, GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(8).optional(),
  /**
   * Browser origins allowed to call /graphql across origins (comma list of exact origins such as
   * https://app.example.com). Unset: same origin only. `*` needs CORS_ALLOW_ANY_ORIGIN=true.
   */
  CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((o) => o === '*' || isExactOrigin(o), 'each origin must be scheme://host[:port] with nothing after it, e.g. https://app.example.com')))
    .optional(),
  /** Development only: lets CORS_ORIGINS=* grant every origin (logged as a warning at start). */
  CORS_ALLOW_ANY_ORIGIN: boolean.default(false),
});

/** `https://host[:port]` exactly as a browser sends it in Origin: lower case, no path, no trailing slash. */
function isExactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

/** Each provider's section; `requiredFor` checks the ones SMS_PROVIDERS (or SMS_ROUTES) names. */
const providerEnv = {
  twilio: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'],
  aliyun: ['ALIYUN_ACCESS_KEY_ID', 'ALIYUN_ACCESS_KEY_SECRET', 'ALIYUN_SIGN_NAME', 'ALIYUN_CALLBACK_TOKEN'],
  tencent: ['TENCENT_SECRET_ID', 'TENCENT_SECRET_KEY', 'TENCENT_SMS_SDK_APP_ID', 'TENCENT_SIGN_NAME', 'TENCENT_CALLBACK_TOKEN'],
  smpp: ['SMPP_URL'],
} as const;

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  apiBaseUrl: string;
}
export interface AliyunConfig {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  endpoint: string;
  callbackToken: string;
}
export interface TencentConfig {
  secretId: string;
  secretKey: string;
  smsSdkAppId: string;
  signName: string;
  region: string;
  endpoint: string;
  callbackToken: string;
}
export interface SmppConfig {
  url: string;
  sourceAddr: string | undefined;
  window: number;
  enquireLinkMs: number;
}

export type Config = Readonly<{
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  providers: readonly string[];
  publicUrl: string | undefined;
  production: boolean;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  logPhoneNumbers: z.infer<typeof envSchema>['LOG_PHONE_NUMBERS'];
  maxBodyLength: number;
  defaultCountry: string | undefined;
  bootstrapAdminKey: boolean;
  /** OPERATOR_ACCOUNT: whose ADMIN keys may change providers and routing at run time. */
  operatorAccount: string;
  dispatch: boolean;
  /** HTTP worker processes `npm start` forks (0: one process does everything). */
  httpWorkers: number;
  dispatcher: {
    batchSize: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    leaseMs: number;
    pollMs: number;
  };
  simulatorDelayMs: number;
  simulatorReportBatchMs: number;
  providerTimeoutMs: number;
  /** SMS_ROUTES as given (parsed and validated by providers/routing.ts at start). */
  routes: string | undefined;
  /** SIMULATORS: extra simulator providers by name, with their behaviour (validated at start). */
  simulators: Readonly<Record<string, SimulatorBehaviourSettings>>;
  reconcile: { afterMs: number; deadlineMs: number; intervalMs: number };
  /** The actual-cost fetcher (ACTUAL_COST_*; dispatch/actual-cost.ts). */
  actualCost: { pollMs: number; windowMs: number; retryMs: number; maxAttempts: number };
  /** messageStats' rollup loop's poll interval; 0 turns the loop off in this process (STATS_ROLLUP_POLL_MS). */
  statsRollupPollMs: number;
  /** Retention's loop interval (RETENTION_POLL_MS); its first pass is one interval after start. 0: off. */
  retentionPollMs: number;
  /**
   * How often each process adds the provider-quality counts it made since the last time into
   * the shared tables (QUALITY_FLUSH_MS); 0 only at stop (tests, which count statements).
   */
  qualityFlushMs: number;
  /** One quality bucket, ms (QUALITY_BUCKET_MS; 60 000 unless time is compressed for a test). */
  qualityBucketMs: number;
  /** Outgoing webhooks' delivery worker (WEBHOOK_*). */
  outgoingWebhooks: OutgoingWebhookOptions;
  /** A section is present when its required variables are set. */
  twilio: TwilioConfig | undefined;
  aliyun: AliyunConfig | undefined;
  tencent: TencentConfig | undefined;
  smpp: SmppConfig | undefined;
  /** Largest POST /graphql body and graphql-ws message (MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  /** Refusals of oversized GraphQL documents (GRAPHQL_MAX_*). */
  graphqlLimits: GraphqlLimits;
  /** GET /metrics is open unless this is set (METRICS_TOKEN). */
  metricsToken: string | undefined;
  /** Cross-origin browser access to /graphql (CORS_ORIGINS; see security/cors.ts). */
  cors: CorsConfig;
}>;

export interface CorsConfig {
  /** Exact origins granted; empty: same origin only. */
  origins: readonly string[];
  /** CORS_ORIGINS=* with CORS_ALLOW_ANY_ORIGIN=true: every origin (development). */
  anyOrigin: boolean;
}

/** Outgoing webhook delivery (WEBHOOK_* variables). */
export interface OutgoingWebhookOptions {
  /** Delays before each retry (ms); its length + 1 is the number of attempts. */
  retrySchedule: number[];
  pollMs: number;
  /** How long one POST may take. */
  timeoutMs: number;
  batchSize: number;
  /** Deliveries failed for good in a row after which the endpoint is disabled. */
  disableAfterFailures: number;
  /** An endpoint whose every attempt failed for this long is disabled. */
  disableAfterMs: number;
  /**
   * WEBHOOK_ALLOW_PRIVATE_URLS: endpoints may be (and resolve to) loopback, private, link-local
   * and other non-public addresses. Off by default (see address-guard.ts).
   */
  allowPrivateUrls: boolean;
}

export interface GraphqlLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "unset", as it does in most shells' `VAR= cmd` idiom.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const missing = crossChecks(e, present);
  if (missing.length > 0) throw new ConfigError(`invalid configuration:\n${missing.join('\n')}`);
  return toConfig(e, (name) => providerEnv[name].every((v) => present[v]));
}

type Env = z.infer<typeof envSchema>;

/** What one variable's schema cannot check: settings that depend on each other. */
function crossChecks(e: Env, present: Record<string, string | undefined>): string[] {
  const missing = Object.entries(providerEnv).flatMap(([name, vars]) =>
    e.SMS_PROVIDERS.includes(name) ? vars.filter((v) => !present[v]).map((v) => `  ${v}: required when SMS_PROVIDERS names ${name}`) : [],
  );
  if (e.SMS_PROVIDERS.includes('twilio') && !e.TWILIO_FROM && !e.TWILIO_MESSAGING_SERVICE_SID) {
    missing.push('  TWILIO_FROM: required (or TWILIO_MESSAGING_SERVICE_SID) when SMS_PROVIDERS names twilio');
  }
  if (e.HTTP_WORKERS && !e.DATABASE_URL) {
    missing.push('  HTTP_WORKERS: needs DATABASE_URL (the embedded database can be opened by one process only); unset it or set it to 0');
  }
  if (e.CORS_ORIGINS?.includes('*') && !e.CORS_ALLOW_ANY_ORIGIN) {
    missing.push('  CORS_ORIGINS: * grants every web page; list exact origins, or set CORS_ALLOW_ANY_ORIGIN=true for development');
  }
  if (e.CORS_ORIGINS?.includes('*') && e.CORS_ORIGINS.length > 1) {
    missing.push('  CORS_ORIGINS: * stands alone (it already grants every origin)');
  }
  if (e.SMS_ROUTES !== undefined) {
    // Parsed again by the runtime; checked here so a bad SMS_ROUTES stops the start with the
    // other configuration errors instead of a stack trace.
    try {
      parseRoutingConfig(e.SMS_ROUTES, e.SMS_PROVIDERS);
    } catch (error) {
      if (!(error instanceof RoutingConfigError)) throw error;
      missing.push(...error.message.split('\n').filter((line) => line.startsWith('  ')), ...(error.message.includes('\n') ? [] : [`  ${error.message}`]));
    }
  }
  try {
    parseSimulators(e.SIMULATORS);
  } catch (error) {
    if (!(error instanceof SimulatorsConfigError)) throw error;
    missing.push(...error.message.split('\n'));
  }
  return missing;
}

/** The typed, frozen Config from parsed variables; `has` says whether a provider is configured. */
function toConfig(e: Env, has: (provider: keyof typeof providerEnv) => boolean): Config {
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    redisUrl: e.REDIS_URL,
    providers: Object.freeze(e.SMS_PROVIDERS),
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    logPhoneNumbers: e.LOG_PHONE_NUMBERS,
    maxBodyLength: e.MAX_BODY_LENGTH,
    defaultCountry: e.DEFAULT_COUNTRY,
    bootstrapAdminKey: e.BOOTSTRAP_ADMIN_KEY,
    operatorAccount: e.OPERATOR_ACCOUNT,
    dispatch: e.DISPATCH === 'on',
    httpWorkers: e.HTTP_WORKERS ?? (e.DATABASE_URL ? availableParallelism() : 0),
    dispatcher: Object.freeze({
      batchSize: e.DISPATCH_BATCH_SIZE,
      maxAttempts: e.DISPATCH_MAX_ATTEMPTS,
      retryBaseMs: e.DISPATCH_RETRY_BASE_MS,
      retryMaxMs: e.DISPATCH_RETRY_MAX_MS,
      leaseMs: e.DISPATCH_LEASE_MS,
      pollMs: e.DISPATCH_POLL_MS,
    }),
    simulatorDelayMs: e.SIMULATOR_DELAY_MS,
    simulatorReportBatchMs: e.SIMULATOR_REPORT_BATCH_MS,
    providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    routes: e.SMS_ROUTES,
    simulators: parseSimulators(e.SIMULATORS),
    reconcile: Object.freeze({ afterMs: e.RECONCILE_AFTER_MS, deadlineMs: e.DELIVERY_REPORT_DEADLINE_MS, intervalMs: e.RECONCILE_INTERVAL_MS }),
    actualCost: Object.freeze({ pollMs: e.ACTUAL_COST_POLL_MS, windowMs: e.ACTUAL_COST_WINDOW_MS, retryMs: e.ACTUAL_COST_RETRY_MS, maxAttempts: e.ACTUAL_COST_MAX_ATTEMPTS }),
    statsRollupPollMs: e.STATS_ROLLUP_POLL_MS,
    retentionPollMs: e.RETENTION_POLL_MS,
    qualityFlushMs: e.QUALITY_FLUSH_MS,
    qualityBucketMs: e.QUALITY_BUCKET_MS,
    outgoingWebhooks: Object.freeze({
      retrySchedule: e.WEBHOOK_RETRY_SCHEDULE,
      pollMs: e.WEBHOOK_POLL_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      batchSize: 50,
      disableAfterFailures: e.WEBHOOK_DISABLE_AFTER_FAILURES,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER_MS,
      allowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS,
    }),
    twilio: has('twilio')
      ? { accountSid: e.TWILIO_ACCOUNT_SID!, authToken: e.TWILIO_AUTH_TOKEN!, from: e.TWILIO_FROM, messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID, apiBaseUrl: e.TWILIO_API_BASE_URL.replace(/\/+$/, '') }
      : undefined,
    aliyun: has('aliyun')
      ? { accessKeyId: e.ALIYUN_ACCESS_KEY_ID!, accessKeySecret: e.ALIYUN_ACCESS_KEY_SECRET!, signName: e.ALIYUN_SIGN_NAME!, endpoint: e.ALIYUN_ENDPOINT.replace(/\/+$/, ''), callbackToken: e.ALIYUN_CALLBACK_TOKEN! }
      : undefined,
    tencent: has('tencent')
      ? {
          secretId: e.TENCENT_SECRET_ID!,
          secretKey: e.TENCENT_SECRET_KEY!,
          smsSdkAppId: e.TENCENT_SMS_SDK_APP_ID!,
          signName: e.TENCENT_SIGN_NAME!,
          region: e.TENCENT_REGION,
          endpoint: e.TENCENT_ENDPOINT.replace(/\/+$/, ''),
          callbackToken: e.TENCENT_CALLBACK_TOKEN!,
        }
      : undefined,
    smpp: has('smpp') ? { url: e.SMPP_URL!, sourceAddr: e.SMPP_SOURCE_ADDR, window: e.SMPP_WINDOW, enquireLinkMs: e.SMPP_ENQUIRE_LINK_MS } : undefined,
    maxRequestBytes: e.MAX_REQUEST_BYTES,
    metricsToken: e.METRICS_TOKEN,
    cors: Object.freeze({
      origins: Object.freeze((e.CORS_ORIGINS ?? []).filter((o) => o !== '*')),
      anyOrigin: e.CORS_ORIGINS?.includes('*') === true && e.CORS_ALLOW_ANY_ORIGIN,
    }),
    graphqlLimits: Object.freeze({
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxCost: e.GRAPHQL_MAX_COST,
    }),
  });
}

/** A config for tests and embedding, with the same defaults as the environment. */
export function makeConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({ ...loadConfig({}), ...overrides });
}

// The environment, read once at start and validated; nothing else reads process.env.
import path from 'node:path';
import { z } from 'zod';

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
  MAX_BODY_LENGTH: z.coerce.number().int().min(1).max(100_000).default(1600),
  DEFAULT_COUNTRY: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 country code like US or CN')
    .optional(),
  BOOTSTRAP_ADMIN_KEY: boolean.default(true),
  DISPATCH: z.enum(['on', 'off']).default('on'),
  DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  DISPATCH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  DISPATCH_RETRY_BASE_MS: z.coerce.number().int().min(1).default(1000),
  DISPATCH_RETRY_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  DISPATCH_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  DISPATCH_POLL_MS: z.coerce.number().int().min(10).default(500),
  SIMULATOR_DELAY_MS: z.coerce.number().int().min(0).default(50),
});

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
  maxBodyLength: number;
  defaultCountry: string | undefined;
  bootstrapAdminKey: boolean;
  dispatch: boolean;
  dispatcher: {
    batchSize: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    leaseMs: number;
    pollMs: number;
  };
  simulatorDelayMs: number;
}>;

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
    maxBodyLength: e.MAX_BODY_LENGTH,
    defaultCountry: e.DEFAULT_COUNTRY,
    bootstrapAdminKey: e.BOOTSTRAP_ADMIN_KEY,
    dispatch: e.DISPATCH === 'on',
    dispatcher: Object.freeze({
      batchSize: e.DISPATCH_BATCH_SIZE,
      maxAttempts: e.DISPATCH_MAX_ATTEMPTS,
      retryBaseMs: e.DISPATCH_RETRY_BASE_MS,
      retryMaxMs: e.DISPATCH_RETRY_MAX_MS,
      leaseMs: e.DISPATCH_LEASE_MS,
      pollMs: e.DISPATCH_POLL_MS,
    }),
    simulatorDelayMs: e.SIMULATOR_DELAY_MS,
  });
}

/** A config for tests and embedding, with the same defaults as the environment. */
export function makeConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({ ...loadConfig({}), ...overrides });
}

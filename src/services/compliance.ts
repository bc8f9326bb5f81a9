// The account-specific side of compliance, with caches: each account's screening policy
// (built-in list + its additions − its exemptions) and its limit policy. Caches are per
// process and short-lived: an edit applies at once in every process that hears of it through
// pub/sub (app/runtime.ts: the processes of one instance; every instance with Redis), and
// within CACHE_TTL_MS elsewhere (instances without Redis).
import type { Redis } from 'ioredis';
import { loadDefaultSensitiveMatcher } from './default-sensitive-terms.js';
import { findScreenedMatches, screenContent, type ScreeningPolicy } from '../domain/sensitive/screen-content.js';
import { createSensitiveMatcher, type SensitiveMatch } from '../domain/sensitive/sensitive-matcher.js';
import { createLimiter, type Limiter } from '../limits/limiter.js';
import { parseLimitPolicyOverrides, resolveLimitPolicy, type LimitPolicy } from '../limits/policy.js';
import { ValidationError } from '../domain/errors.js';
import type { AccountSettingsReads } from '../store/account-settings.js';
import type { ComplianceDeps } from './send-pipeline.js';

const CACHE_TTL_MS = 10_000;

interface AccountPolicy {
  screening: ScreeningPolicy;
  limits: LimitPolicy;
  otpBypassesOptOut: boolean;
  loadedAt: number;
}

export interface Compliance extends ComplianceDeps {
  limiter: Limiter;
  /** Every match with offsets, for previews. */
  findMatches(accountId: string, text: string): Promise<SensitiveMatch[]>;
  /** Drops the cached policy of an account after its settings or word rules changed. */
  invalidate(accountId: string): void;
  close(): Promise<void>;
}

export function createCompliance(options: { settings: AccountSettingsReads; redis?: Redis; clusterWorker?: boolean }): Compliance {
  const { settings: accountSettings } = options;
  const defaultMatcher = loadDefaultSensitiveMatcher();
  const cache = new Map<string, Promise<AccountPolicy>>();

  async function load(accountId: string): Promise<AccountPolicy> {
    const { settings, rules } = await accountSettings.compliancePolicy(accountId);
    const overrides = parseLimitPolicyOverrides(settings?.limits ?? {});
    return {
      screening: {
        matcher: defaultMatcher,
        accountAdditions: createSensitiveMatcher(rules.filter((r) => r.kind === 'BLOCK').map((r) => r.word)),
        exemptions: rules.filter((r) => r.kind === 'ALLOW').map((r) => r.word),
      },
      // Stored overrides were validated on write; a bad row falls back to the defaults.
      limits: resolveLimitPolicy(overrides instanceof ValidationError ? {} : overrides),
      otpBypassesOptOut: settings?.otpBypassesOptOut ?? true,
      loadedAt: Date.now(),
    };
  }

  function policy(accountId: string): Promise<AccountPolicy> {
    const cached = cache.get(accountId);
    if (cached) {
      void cached.then((p) => {
        if (Date.now() - p.loadedAt > CACHE_TTL_MS && cache.get(accountId) === cached) cache.delete(accountId);
      });
      return cached;
    }
    const loading = load(accountId);
    cache.set(accountId, loading);
    loading.catch(() => cache.delete(accountId));
    return loading;
  }

  const limiter = createLimiter({ redis: options.redis, clusterWorker: options.clusterWorker, policyFor: async (accountId) => (await policy(accountId)).limits });

  return {
    limiter,
    async screen(accountId, text) {
      return screenContent(text, (await policy(accountId)).screening);
    },
    async findMatches(accountId, text) {
      return findScreenedMatches(text, (await policy(accountId)).screening);
    },
    async checkSendLimits(accountId, items) {
      return limiter.checkSendMany(accountId, items.map((i) => ({ recipient: i.recipient, category: i.category })));
    },
    async otpBypassesOptOut(accountId) {
      return (await policy(accountId)).otpBypassesOptOut;
    },
    invalidate(accountId) {
      cache.delete(accountId);
    },
    close: () => limiter.close(),
  };
}

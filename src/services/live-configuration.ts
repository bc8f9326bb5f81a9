// The providers and routing in force in this process, reloaded without a restart when the
// run-time configuration changes (services/configuration.ts writes it): every process hears the
// change at once through store/invalidation.ts (PostgreSQL NOTIFY across processes and
// instances), and a slow poll of the version catches a notification that was lost.
//
// What is in force: the environment's providers (SMS_PROVIDERS) each replaced by a run-time
// definition of the same name, plus the run-time ones (domain/provider-definitions.ts); the
// routing document set at run time, else SMS_ROUTES. An adapter is rebuilt only when its
// definition changed; the one it replaces is closed after in-flight calls had time to finish.
import { checkRoutingDocument, type RoutingConfig } from '../config/routes.js';
import type { PrismaClient } from '../db/database.js';
import { effectiveProviders, openDefinitions, specKey, type EffectiveProvider, type ProviderSpec } from '../domain/provider-definitions.js';
import type { Logger } from '../logging/logger.js';
import type { SmsProvider } from '../providers/types.js';
import { readConfiguration, readConfigurationVersion, type ConfigurationSnapshot } from '../store/configuration.js';
import { onChange } from '../store/invalidation.js';

/** Where the routing in force comes from. */
export interface RoutingInForce {
  source: 'ENVIRONMENT' | 'RUNTIME';
  /** The document as given (SMS_ROUTES parsed, or the run-time one). */
  document: unknown;
  config: RoutingConfig;
  /** Why a stored run-time document is not in force (it names a provider no longer defined). */
  problem: string | null;
}

export interface ConfigurationState {
  version: number;
  providers: readonly EffectiveProvider[];
  /** The adapters, disabled providers' included (they still take reports and status polls). */
  adapters: readonly SmsProvider[];
  /** Names routing may choose. */
  enabled: ReadonlySet<string>;
  routing: RoutingInForce;
}

export interface LiveConfiguration {
  current(): ConfigurationState;
  /** Reads the stored configuration and applies it if its version moved (or `force`). */
  reload(force?: boolean): Promise<void>;
  /** Called after each applied change, with the new state and the adapters no longer in force. */
  onApplied(listener: (state: ConfigurationState, retired: readonly SmsProvider[]) => void): () => void;
  close(): Promise<void>;
}

export interface LiveConfigurationOptions {
  prisma: PrismaClient;
  /** The environment's providers and SMS_ROUTES (parsed JSON, undefined when unset). */
  environment: { providers: readonly ProviderSpec[]; routes: unknown };
  sealKey: Buffer;
  build: (spec: ProviderSpec) => SmsProvider;
  /** Applies a changed definition to a running adapter when it can (providers/registry.ts updateInPlace). */
  updateInPlace?: (adapter: SmsProvider, from: ProviderSpec, to: ProviderSpec) => boolean;
  logger: Logger;
  /** How often the version is checked when no notification came (ms; 0: never). */
  pollMs?: number;
  /** How long a replaced adapter is kept open for calls in flight before it is closed. */
  retireAfterMs: number;
}

export async function createLiveConfiguration(options: LiveConfigurationOptions): Promise<LiveConfiguration> {
  const { logger } = options;
  const adapters = new Map<string, { adapter: SmsProvider; spec: ProviderSpec }>(); // by specKey
  const listeners = new Set<(state: ConfigurationState, retired: readonly SmsProvider[]) => void>();
  const retiring = new Map<NodeJS.Timeout, SmsProvider>();
  let state = apply(await readConfiguration(options.prisma)).state;
  let running: Promise<void> | undefined;
  let closed = false;

  function apply(snapshot: ConfigurationSnapshot): { state: ConfigurationState; retired: SmsProvider[] } {
    const providers = effectiveProviders(options.environment.providers, openDefinitions(options.sealKey, snapshot.providers), (name, issues) =>
      logger.error({ provider: name, issues }, 'a stored provider definition is not valid for this version of Herald; it is left out'),
    );
    const keep = new Set<string>();
    const inForce = providers.map((p) => {
      const key = specKey(p.spec);
      keep.add(key);
      const same = adapters.get(key);
      if (same) return same.adapter;
      // The same provider changed in a way its adapter takes while running: re-filed, not rebuilt.
      const running = [...adapters.entries()].find(([, a]) => a.spec.name === p.spec.name && !keep.has(specKey(a.spec)));
      if (running && options.updateInPlace?.(running[1].adapter, running[1].spec, p.spec)) {
        adapters.delete(running[0]);
        adapters.set(key, { adapter: running[1].adapter, spec: p.spec });
        return running[1].adapter;
      }
      const adapter = options.build(p.spec);
      adapters.set(key, { adapter, spec: p.spec });
      return adapter;
    });
    const retired: SmsProvider[] = [];
    for (const [key, { adapter }] of adapters) {
      if (keep.has(key)) continue;
      adapters.delete(key);
      retired.push(adapter);
    }
    const enabled = new Set(providers.filter((p) => p.enabled).map((p) => p.spec.name));
    const defined = providers.map((p) => p.spec.name);
    const order = defined.filter((n) => enabled.has(n));
    return { state: { version: snapshot.version, providers, adapters: inForce, enabled, routing: routingInForce(snapshot, defined, order) }, retired };
  }

  function routingInForce(snapshot: ConfigurationSnapshot, defined: string[], order: string[]): RoutingInForce {
    let problem: string | null = null;
    if (snapshot.routing) {
      const checked = checkRoutingDocument(snapshot.routing.document, defined, order);
      if (checked.ok) return { source: 'RUNTIME', document: snapshot.routing.document, config: checked.config, problem: null };
      problem = checked.unknownProviders.length ? `names ${checked.unknownProviders.join(', ')}, not defined` : checked.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      logger.error({ problem }, 'the routing set at run time is not valid with the providers in force; SMS_ROUTES applies until it is set again');
    }
    const environment = checkRoutingDocument(options.environment.routes, defined, order);
    // SMS_ROUTES was checked against SMS_PROVIDERS at start; every one of those stays defined.
    if (!environment.ok) throw new Error(`SMS_ROUTES no longer fits the providers: ${JSON.stringify(environment)}`);
    return { source: 'ENVIRONMENT', document: options.environment.routes ?? {}, config: environment.config, problem };
  }

  async function reloadOnce(force: boolean): Promise<void> {
    if (!force && (await readConfigurationVersion(options.prisma)) === state.version) return;
    const applied = apply(await readConfiguration(options.prisma));
    state = applied.state;
    logger.info({ version: state.version, providers: state.providers.length, routing: state.routing.source }, 'configuration reloaded');
    for (const listener of listeners) listener(state, applied.retired);
    for (const adapter of applied.retired) {
      const timer = setTimeout(() => {
        retiring.delete(timer);
        closeAdapter(adapter);
      }, options.retireAfterMs);
      retiring.set(timer, adapter);
    }
  }

  function closeAdapter(adapter: SmsProvider): void {
    adapter.close?.()?.catch((error: unknown) => logger.warn({ err: error, provider: adapter.name }, 'closing a replaced provider failed'));
  }

  /**
   * One reload at a time. A call during one is answered by a reload that starts after it (one
   * more, shared by every call that came meanwhile), so what committed before the call is seen.
   */
  let next: Promise<void> | undefined;
  function reload(force = false): Promise<void> {
    if (closed) return Promise.resolve();
    if (running) return (next ??= running.then(() => ((next = undefined), reload(true))));
    running = reloadOnce(force)
      .catch((error: unknown) => logger.warn({ err: error }, 'could not reload the configuration; the one in force stays'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  // A change announced anywhere (id: its version), or a reconnection after which some may be lost.
  const stopListening = onChange((kind, id) => {
    if (kind !== null && kind !== 'config') return;
    if (id !== null && Number(id) <= state.version) return;
    void reload(true);
  });
  const poll = options.pollMs ? setInterval(() => void reload(), options.pollMs) : undefined;
  poll?.unref();

  return {
    current: () => state,
    reload,
    onApplied(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      stopListening();
      if (poll) clearInterval(poll);
      await running;
      for (const timer of retiring.keys()) clearTimeout(timer);
      const all = [...[...adapters.values()].map((a) => a.adapter), ...retiring.values()];
      retiring.clear();
      await Promise.all(all.map((a) => a.close?.()));
    },
  };
}

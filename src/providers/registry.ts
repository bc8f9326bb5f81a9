import type { Config } from '../config/config.js';
import { environmentSpecs, PROVIDER_KINDS, type ProviderSpec } from '../domain/provider-definitions.js';
import type { Logger } from '../logging/logger.js';
import { AliyunProvider } from './aliyun/aliyun.js';
import { SimulatorProvider } from './simulator/simulator.js';
import type { SimulatorStore } from './simulator/simulator-memory-store.js';
import { SmppProvider } from './smpp/smpp.js';
import { TencentProvider } from './tencent/tencent.js';
import { TwilioProvider } from './twilio/twilio.js';
import type { ProviderEvents, SmsProvider } from './types.js';

export interface ProviderContext {
  config: Config;
  logger: Logger;
  /** Herald's public base URL (known only after listening when PORT=0). */
  publicUrl: () => string;
  simulatorSecret: string;
  /** Durable memory for each simulator by name (survives crashes, shared by instances). */
  simulatorStore?: (simulator: string) => SimulatorStore;
  /** Where connection-based providers (SMPP) hand delivery receipts and replies. */
  events: ProviderEvents;
  /**
   * Whether this process dispatches. Only dispatching processes hold an SMPP bind (an SMSC
   * limits binds per account, and receipts must reach a process that stores them).
   */
  dispatching: boolean;
}

export const availableProviders = PROVIDER_KINDS;

/** The providers named in SMS_PROVIDERS, in routing order. Unknown names stop the start. */
export function createProviders(context: ProviderContext): SmsProvider[] {
  return environmentSpecs(context.config).map((spec) => createProvider(spec, context));
}

/** The adapter a provider definition (from the environment or made at run time) describes. */
export function createProvider(spec: ProviderSpec, context: ProviderContext): SmsProvider {
  const { config } = context;
  const timeoutMs = config.providerTimeoutMs;
  const name = spec.name;
  switch (spec.kind) {
    case 'simulator':
      return new SimulatorProvider({
        name,
        secret: context.simulatorSecret,
        publicUrl: context.publicUrl,
        reportDelayMs: spec.options.reportDelayMs ?? config.simulatorDelayMs,
        reportBatchMs: spec.options.reportBatchMs ?? config.simulatorReportBatchMs,
        behaviour: spec.options.behaviour,
        store: context.simulatorStore?.(name),
        onCallbackFailure: (failure) => context.logger.warn({ failure, provider: name }, 'simulator could not deliver a report'),
      });
    case 'twilio':
      return new TwilioProvider({ ...spec.options, name, publicUrl: context.publicUrl, timeoutMs });
    case 'aliyun':
      return new AliyunProvider({ ...spec.options, name, timeoutMs });
    case 'tencent':
      return new TencentProvider({ ...spec.options, name, timeoutMs });
    case 'smpp':
      return new SmppProvider({
        ...spec.options,
        name,
        timeoutMs,
        events: context.events,
        logger: context.logger.child({ provider: name }),
        connect: context.dispatching ? 'eager' : 'lazy',
      });
  }
}

/**
 * Applies a changed definition to the adapter in place when only what it can change while
 * running changed (a simulator's behaviour), keeping its circuit, submissions in flight and
 * pending reports; false: the adapter must be rebuilt.
 */
export function updateInPlace(adapter: SmsProvider, from: ProviderSpec, to: ProviderSpec): boolean {
  if (from.kind !== 'simulator' || to.kind !== 'simulator' || from.name !== to.name || !(adapter instanceof SimulatorProvider)) return false;
  const { behaviour: _before, ...restFrom } = from.options;
  const { behaviour, ...restTo } = to.options;
  if (JSON.stringify(Object.entries(restFrom).sort()) !== JSON.stringify(Object.entries(restTo).sort())) return false;
  adapter.setBehaviour(behaviour ?? {});
  return true;
}

import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { AliyunProvider } from './aliyun/aliyun.js';
import { SimulatorProvider } from './simulator/simulator.js';
import type { SimulatorStore } from './simulator/simulator-memory-store.js';
import type { SimulatorBehaviourSettings } from './simulator/behaviour.js';
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

export const availableProviders = ['simulator', 'twilio', 'aliyun', 'tencent', 'smpp'] as const;

/** The providers named in SMS_PROVIDERS, in routing order. Unknown names stop the start. */
export function createProviders(context: ProviderContext): SmsProvider[] {
  const { config } = context;
  const timeoutMs = config.providerTimeoutMs;
  // loadConfig refuses to start without a named provider's variables; makeConfig (tests) may not.
  const section = <T>(name: string, value: T | undefined): T => {
    if (!value) throw new Error(`SMS_PROVIDERS names ${name} but its settings are missing (see docs/providers.md)`);
    return value;
  };
  const simulator = (name: string, behaviour?: SimulatorBehaviourSettings) =>
    new SimulatorProvider({
      name,
      behaviour,
      secret: context.simulatorSecret,
      publicUrl: context.publicUrl,
      reportDelayMs: config.simulatorDelayMs,
      reportBatchMs: config.simulatorReportBatchMs,
      store: context.simulatorStore?.(name),
      onCallbackFailure: (failure) => context.logger.warn({ failure, simulator: name }, 'simulator could not deliver a report'),
    });
  return config.providers.map((name): SmsProvider => {
    switch (name) {
      case 'simulator':
        return simulator(name);
      case 'twilio':
        return new TwilioProvider({ ...section(name, config.twilio), publicUrl: context.publicUrl, timeoutMs });
      case 'aliyun':
        return new AliyunProvider({ ...section(name, config.aliyun), timeoutMs });
      case 'tencent':
        return new TencentProvider({ ...section(name, config.tencent), timeoutMs });
      case 'smpp':
        return new SmppProvider({
          ...section(name, config.smpp),
          timeoutMs,
          events: context.events,
          logger: context.logger.child({ provider: 'smpp' }),
          connect: context.dispatching ? 'eager' : 'lazy',
        });
      default: {
        // A simulator of SIMULATORS, under its own name.
        const behaviour = config.simulators[name];
        if (behaviour) return simulator(name, behaviour);
        const extra = Object.keys(config.simulators);
        throw new Error(`SMS_PROVIDERS names "${name}", which this version of Herald does not have (available: ${[...availableProviders, ...extra].join(', ')}; SIMULATORS defines more)`);
      }
    }
  });
}

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { SimulatorProvider } from './simulator.js';
import type { SimulatorStore } from './simulator-store.js';
import type { SmsProvider } from './types.js';

export interface ProviderContext {
  config: Config;
  logger: Logger;
  /** Herald's public base URL (known only after listening when PORT=0). */
  publicUrl: () => string;
  simulatorSecret: string;
  /** Durable memory for the simulator (survives crashes, shared by instances). */
  simulatorStore?: SimulatorStore;
}

/** The providers named in SMS_PROVIDERS, in routing order. Unknown names stop the start. */
export function createProviders(context: ProviderContext): SmsProvider[] {
  return context.config.providers.map((name) => {
    switch (name) {
      case 'simulator':
        return new SimulatorProvider({
          secret: context.simulatorSecret,
          publicUrl: context.publicUrl,
          reportDelayMs: context.config.simulatorDelayMs,
          store: context.simulatorStore,
          onCallbackFailure: (failure) => context.logger.warn({ failure }, 'simulator could not deliver a report'),
        });
      default:
        throw new Error(`SMS_PROVIDERS names "${name}", which this version of Herald does not have (available: simulator)`);
    }
  });
}

import type { Config } from '../config/config.js';
import type { RoutingConfig } from '../config/routes.js';
import type { PrismaClient } from '../db/database.js';
import type { Auth } from '../domain/api-key.js';
import type { ProviderHealth } from '../providers/provider-pool.js';
import type { SmsProvider } from '../providers/types.js';
import type { Logger } from '../logging/logger.js';
import type { HeraldPubSub, StatusChange } from '../pubsub/pubsub.js';
import type { Compliance } from '../services/compliance.js';
import type { Store } from '../store/store.js';
import type { RouteFacts } from '../services/route-facts.js';
import type { ConfigurationDeps } from '../services/configuration.js';
import type { LiveConfiguration } from '../services/live-configuration.js';

export type { Auth };

/** Per-operation context, the same for HTTP, SSE and WebSocket operations. */
export interface Context {
  prisma: PrismaClient;
  /** Every statement Herald runs (see store/store.ts). */
  store: Store;
  config: Config;
  auth: Auth;
  pubsub: HeraldPubSub;
  /** Publishes status changes (after their transaction committed) and wakes the dispatcher. */
  publishAndWake: (changes: StatusChange[]) => void;
  compliance: Compliance;
  /** The configured providers, in routing order (simulateInboundMessage needs the simulator). */
  providers: readonly SmsProvider[];
  /** SMS_ROUTES parsed: which providers may carry a message, in order (cost estimates follow it). */
  routing: RoutingConfig;
  /** Each provider's price and measured quality for a message, from memory (services/route-facts.ts). */
  routeFacts: RouteFacts;
  /**
   * The health of the providers behind routing, circuits and limits, for the `providers` query:
   * as the dispatching process sees them (app/runtime.ts).
   */
  providerHealth: () => Promise<ProviderHealth[]>;
  /** The configuration version in force in the process of this instance that dispatches (null: none does). */
  dispatchingConfigurationVersion: () => Promise<number | null>;
  /** Providers and routing in force, reloaded on every change (services/live-configuration.ts). */
  configuration: LiveConfiguration;
  /** What the configuration mutations need (services/configuration.ts). */
  configurationDeps: ConfigurationDeps;
  /** Whether the account is the operator's (OPERATOR_ACCOUNT): its ADMIN keys change providers and routing. */
  isOperatorAccount: (accountId: string) => Promise<boolean>;
  /** The HTTP request's id (x-request-id), or the graphql-ws socket's. */
  requestId: string;
  /** The logger bound to this request: its lines carry `requestId` (and `operationId` on a socket). */
  log: Logger;
}

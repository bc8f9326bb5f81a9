// What Herald publishes: small events, so that each subscriber loads only what it selects.
import type { MessageStatus } from '../domain/status-machine.js';

/** What is published on every status change: small, so each subscriber loads what it selects. */
export interface StatusChange {
  id: string;
  accountId: string;
  status: MessageStatus;
  batchId: string | null;
}

/** What is published when an inbound message was stored: subscribers load it by id. */
export interface InboundReceived {
  id: string;
  accountId: string;
}

/** Published when an API key is revoked: every instance closes that key's open WebSockets. */
export interface KeyRevoked {
  keyId: string;
  accountId: string;
}

/** Published when an account's compliance settings or word rules changed (services/compliance.ts caches them). */
export interface SettingsChanged {
  accountId: string;
}

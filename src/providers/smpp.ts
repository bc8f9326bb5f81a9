// PLACEHOLDER until the Smpp adapter lands (a helper is writing it): fixes the constructor.
import type { SmppConfig } from '../config.js';
import type { Logger } from "../logger.js";
import type { ProviderEvents, SendResult, SmsProvider, StatusReport } from './types.js';

export type SmppOptions = SmppConfig & { timeoutMs: number; events: ProviderEvents; logger: Logger };

export class SmppProvider implements SmsProvider {
  readonly name = 'smpp';
  constructor(readonly options: SmppOptions) {}
  async send(): Promise<SendResult> {
    return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'smpp adapter not built yet' };
  }
  verifyWebhook(): boolean {
    return false;
  }
  parseStatusReport(): StatusReport[] {
    return [];
  }
}

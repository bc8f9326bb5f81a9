// PLACEHOLDER until the Twilio adapter lands (a helper is writing it): fixes the constructor.
import type { TwilioConfig } from '../config.js';
import type { SendResult, SmsProvider, StatusReport } from './types.js';

export type TwilioOptions = TwilioConfig & { publicUrl: () => string; timeoutMs: number };

export class TwilioProvider implements SmsProvider {
  readonly name = 'twilio';
  constructor(readonly options: TwilioOptions) {}
  async send(): Promise<SendResult> {
    return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'twilio adapter not built yet' };
  }
  verifyWebhook(): boolean {
    return false;
  }
  parseStatusReport(): StatusReport[] {
    return [];
  }
}

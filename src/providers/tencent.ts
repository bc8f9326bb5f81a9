// PLACEHOLDER until the Tencent adapter lands (a helper is writing it): fixes the constructor.
import type { TencentConfig } from '../config.js';
import type { SendResult, SmsProvider, StatusReport } from './types.js';

export type TencentOptions = TencentConfig & { timeoutMs: number };

export class TencentProvider implements SmsProvider {
  readonly name = 'tencent';
  constructor(readonly options: TencentOptions) {}
  async send(): Promise<SendResult> {
    return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'tencent adapter not built yet' };
  }
  verifyWebhook(): boolean {
    return false;
  }
  parseStatusReport(): StatusReport[] {
    return [];
  }
}

// PLACEHOLDER until the Aliyun adapter lands (a helper is writing it): fixes the constructor.
import type { AliyunConfig } from '../config.js';
import type { SendResult, SmsProvider, StatusReport } from './types.js';

export type AliyunOptions = AliyunConfig & { timeoutMs: number };

export class AliyunProvider implements SmsProvider {
  readonly name = 'aliyun';
  constructor(readonly options: AliyunOptions) {}
  async send(): Promise<SendResult> {
    return { kind: 'retryable', errorCode: 'PROVIDER_ERROR', message: 'aliyun adapter not built yet' };
  }
  verifyWebhook(): boolean {
    return false;
  }
  parseStatusReport(): StatusReport[] {
    return [];
  }
}

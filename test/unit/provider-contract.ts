// Checks every SmsProvider adapter must pass, whatever the vendor. An adapter's test file
// calls `providerContract(name, createSubject)` with a subject wired to a local fake of the
// vendor (or, for the simulator, to a local webhook receiver).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReport, messageStatuses } from '../../src/domain/status-machine.js';
import {
  providerErrorCodes,
  WebhookPayloadError,
  type OutboundMessage,
  type SmsProvider,
  type WebhookRequest,
} from '../../src/providers/types.js';

export interface ProviderContractSubject {
  provider: SmsProvider;
  /** A submission this provider (or its fake) accepts. */
  acceptedMessage: OutboundMessage;
  /**
   * The signed status webhook the provider sends about a message it accepted: captured from
   * the provider's own callback, or built and signed exactly as the vendor documents.
   */
  statusWebhookFor(accepted: { reference: string; providerMessageId: string }): Promise<WebhookRequest>;
  /**
   * How the vendor authenticates its callbacks: a signature over the body (Twilio, the
   * simulator) or only a secret token in the callback URL (Aliyun, Tencent push unsigned JSON).
   * Default 'signature'.
   */
  webhookAuth?: 'signature' | 'url-token';
  dispose(): Promise<void>;
}

export function providerContract(name: string, createSubject: () => Promise<ProviderContractSubject>): void {
  describe(`${name} provider contract`, () => {
    let subject: ProviderContractSubject;
    beforeEach(async () => {
      subject = await createSubject();
    });
    afterEach(async () => {
      await subject.dispose();
    });

    const acceptOne = async () => {
      const result = await subject.provider.send(subject.acceptedMessage);
      if (result.kind !== 'accepted') throw new Error(`expected the contract message to be accepted, got ${result.kind}`);
      return { reference: subject.acceptedMessage.id, providerMessageId: result.providerMessageId };
    };

    it('has a lower-case name usable as the webhook path token', () => {
      expect(subject.provider.name).toMatch(/^[a-z][a-z0-9-]*$/);
    });

    it('answers a submission with exactly one of the three result kinds', async () => {
      const result = await subject.provider.send(subject.acceptedMessage);
      switch (result.kind) {
        case 'accepted':
          expect(result.providerMessageId).not.toBe('');
          break;
        case 'rejected':
        case 'retryable':
          expect(providerErrorCodes).toContain(result.errorCode);
          expect(result.message).not.toBe('');
          break;
        default:
          expect.unreachable(`unknown result kind ${JSON.stringify(result satisfies never)}`);
      }
    });

    it('verifies and parses its own signed status report back to the message', async () => {
      const accepted = await acceptOne();
      const request = await subject.statusWebhookFor(accepted);
      expect(await subject.provider.verifyWebhook(request)).toBe(true);

      const reports = subject.provider.parseStatusReport(request);
      expect(reports.length).toBeGreaterThan(0);
      for (const report of reports) {
        expect(report.reference === accepted.reference || report.providerMessageId === accepted.providerMessageId).toBe(true);
        expect(messageStatuses).toContain(report.status);
        expect(report.rawStatus).not.toBe('');
        if (report.errorCode) expect(providerErrorCodes).toContain(report.errorCode);
        // A report about a message the provider holds must be able to move it.
        expect(applyReport('SENDING', report).outcome).toBe('advanced');
      }
    });

    it('refuses a status webhook that was tampered with or forged', async () => {
      const request = await subject.statusWebhookFor(await acceptOne());
      if ((subject.webhookAuth ?? 'signature') === 'signature') {
        const rawBody = Buffer.from(request.rawBody);
        rawBody[rawBody.length - 2] ^= 0x01;
        expect(await subject.provider.verifyWebhook({ ...request, rawBody })).toBe(false);
      }
      if (subject.webhookAuth === 'url-token') {
        // The token is the last thing in the callback URL: one character changed is a guess.
        const forgedUrl = request.url.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'));
        expect(await subject.provider.verifyWebhook({ ...request, url: forgedUrl })).toBe(false);
        const url = new URL(request.url);
        url.search = '';
        expect(await subject.provider.verifyWebhook({ ...request, url: url.toString() })).toBe(false);
      }
    });

    it('throws WebhookPayloadError for a body that is not a status report', async () => {
      const request = await subject.statusWebhookFor(await acceptOne());
      for (const body of ['not json{', '{}', '[]']) {
        expect(() => subject.provider.parseStatusReport({ ...request, rawBody: Buffer.from(body) })).toThrow(WebhookPayloadError);
      }
    });

    it('finds an accepted message by our reference when it supports lookup', async () => {
      const { lookup } = subject.provider;
      if (!lookup) return;
      const since = new Date(Date.now() - 60_000);
      const accepted = await acceptOne();
      // The dispatcher passes the body as submitted (Twilio can only match on it).
      const hint = { to: subject.acceptedMessage.to, since, body: subject.acceptedMessage.body };
      expect(await lookup.call(subject.provider, accepted.reference, hint)).toMatchObject({
        found: true,
        providerMessageId: accepted.providerMessageId,
      });
      const other = { ...hint, body: `${hint.body} (never submitted)` };
      expect(await lookup.call(subject.provider, 'never-submitted', other)).toEqual({ found: false });
    });
  });
}

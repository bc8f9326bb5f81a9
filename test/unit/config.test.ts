import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('has working defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4000, databaseUrl: undefined, providers: ['simulator'], maxBodyLength: 1600 });
    expect(config.dataDir).toMatch(/\.herald$/);
  });
  it('parses lists and treats empty variables as unset', () => {
    expect(loadConfig({ SMS_PROVIDERS: 'smpp, simulator', SMPP_URL: 'smpp://id:pw@127.0.0.1:2775', DATABASE_URL: '' })).toMatchObject({
      providers: ['smpp', 'simulator'],
      databaseUrl: undefined,
      smpp: { url: 'smpp://id:pw@127.0.0.1:2775', window: 10 },
    });
  });
  it("refuses to start a named provider without its variables, naming each one", () => {
    expect(() => loadConfig({ SMS_PROVIDERS: 'simulator,twilio,aliyun' })).toThrow(
      /TWILIO_ACCOUNT_SID[\s\S]*TWILIO_AUTH_TOKEN[\s\S]*ALIYUN_ACCESS_KEY_ID[\s\S]*ALIYUN_CALLBACK_TOKEN[\s\S]*TWILIO_FROM/,
    );
    const twilio = { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', TWILIO_MESSAGING_SERVICE_SID: 'MG1' };
    expect(loadConfig({ SMS_PROVIDERS: 'twilio', ...twilio }).twilio).toMatchObject({ accountSid: 'AC1', apiBaseUrl: 'https://api.twilio.com' });
    expect(() => loadConfig({ SMS_PROVIDERS: 'aliyun', ALIYUN_CALLBACK_TOKEN: 'short' })).toThrow(/ALIYUN_CALLBACK_TOKEN: must be at least 16/);
  });
  it('keeps outgoing webhooks off private addresses unless WEBHOOK_ALLOW_PRIVATE_URLS says otherwise', () => {
    expect(loadConfig({}).outgoingWebhooks.allowPrivateUrls).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }).outgoingWebhooks.allowPrivateUrls).toBe(true);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: '0' }).outgoingWebhooks.allowPrivateUrls).toBe(false);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'sure' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_URLS/);
  });
  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: '99999', DATABASE_URL: 'mysql://x', PUBLIC_URL: 'not a url', DEFAULT_COUNTRY: 'china' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'PUBLIC_URL', 'DEFAULT_COUNTRY']) expect(message).toContain(name);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has working defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4000, databaseUrl: undefined, providers: ['simulator'], maxBodyLength: 1600 });
    expect(config.dataDir).toMatch(/\.herald$/);
  });
  it('parses lists and treats empty variables as unset', () => {
    expect(loadConfig({ SMS_PROVIDERS: 'twilio, simulator', DATABASE_URL: '' })).toMatchObject({ providers: ['twilio', 'simulator'], databaseUrl: undefined });
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

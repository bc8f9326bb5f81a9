import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { configuredSecrets, createScrubber, type SecretSources } from './security/log-scrub.js';

export type { Logger };

/**
 * Structured JSON logs. Authorization headers and key secrets are redacted wherever they
 * appear, so a log line never carries a usable credential: known fields by path (pino), and
 * every written line is scrubbed of API keys, bearer tokens, URL passwords and the provider
 * secrets of `config` (error messages and stacks are free text).
 */
export function createLogger(config: Pick<Config, 'logLevel'> & SecretSources, destination?: pino.DestinationStream): Logger {
  const scrub = createScrubber(configuredSecrets(config));
  return pino(
    {
      level: config.logLevel,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          '*.headers.authorization',
          'authorization',
          'secret',
          '*.secret',
          'apiKey',
          'connectionParams',
          // Provider credentials, if a config section is ever logged whole.
          '*.authToken',
          '*.accessKeySecret',
          '*.secretKey',
          '*.callbackToken',
          '*.password',
          'password',
        ],
        censor: '[redacted]',
      },
      hooks: { streamWrite: scrub },
    },
    destination ?? pino.destination(2),
  );
}

import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * Structured JSON logs. Authorization headers and key secrets are redacted wherever they
 * appear, so a log line never carries a usable credential.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'secret', '*.secret', 'apiKey', 'connectionParams'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination(2),
  );
}

import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.js';
import { currentLogContext } from './log-context.js';
import { configuredSecrets, createScrubber, type SecretSources } from './log-scrub.js';

export type { Logger };

/**
 * Structured JSON logs. Authorization headers and key secrets are redacted wherever they
 * appear, so a log line never carries a usable credential: known fields by path (pino), and
 * every written line is scrubbed of API keys, bearer tokens, URL passwords and the provider
 * secrets of `config` (error messages and stacks are free text), and its phone numbers are
 * masked (`+86 138****8000`) unless LOG_PHONE_NUMBERS=full. Message bodies are never logged.
 *
 * Every line carries the ids of what it is about (requestId, operationId, dispatchRound,
 * messageId: logging/log-context.ts). In development (NODE_ENV=development or
 * LOG_PRETTY=1) lines are pretty-printed by pino-pretty, which reads the scrubbed JSON.
 */
export function createLogger(config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logPhoneNumbers'>> & SecretSources, destination?: pino.DestinationStream): Logger {
  const scrub = createScrubber(configuredSecrets(config), { maskPhoneNumbers: config.logPhoneNumbers !== 'full' });
  return pino(
    {
      level: config.logLevel,
      // A child logger that already binds an id (ctx.log) keeps it once, not twice.
      mixin: (_object, _level, self) => {
        const context = currentLogContext();
        if (Object.keys(context).length === 0) return {};
        const bound = self.bindings();
        return Object.fromEntries(Object.entries(context).filter(([key]) => !(key in bound)));
      },
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
    destination ?? prettyDestination() ?? pino.destination(2),
  );
}

function prettyDestination(env: NodeJS.ProcessEnv = process.env): pino.DestinationStream | undefined {
  if (env.NODE_ENV !== 'development' && env.LOG_PRETTY !== '1' && env.LOG_PRETTY !== 'true') return undefined;
  try {
    // Loaded only when asked for: production never needs it installed.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => pino.DestinationStream;
    return pretty({ destination: 2, colorize: process.stderr.isTTY, translateTime: 'SYS:HH:MM:ss.l', sync: true });
  } catch {
    process.stderr.write('LOG_PRETTY: pino-pretty is not installed; writing JSON logs\n');
    return undefined;
  }
}

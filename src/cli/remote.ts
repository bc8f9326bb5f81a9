// Shared by the CLI commands that talk to a running Herald over HTTP (`send`, `bulk`): they
// use the typed SDK with --url / --key and never open the database.
import { Command, CommanderError, Option } from 'commander';
import { HeraldApiError, SMSClient } from '../client/index.js';

export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

export interface RemoteOptions {
  url: string;
  key?: string;
}

/** Exit codes of the remote commands. */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2 } as const;

/** A mistake in how the command was called (or in its input), found before anything was sent. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A command that talks to a server: adds --url and --key, and turns commander's own usage
 * errors (unknown option, missing value) into exit code 2 instead of 1, which means "refused".
 */
export function remoteCommand(name: string): Command {
  return new Command(name)
    .showHelpAfterError()
    .addOption(new Option('--url <url>', 'GraphQL endpoint of a running Herald').env('HERALD_URL').default(DEFAULT_URL))
    .addOption(new Option('--key <key>', 'API key (hk_…)').env('HERALD_API_KEY'))
    .exitOverride((error: CommanderError) => {
      process.exit(error.exitCode === 0 ? 0 : EXIT.USAGE);
    });
}

/** `http://host:4000` and `http://host:4000/` mean the GraphQL endpoint `http://host:4000/graphql`. */
export function endpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url: not a URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url: must be http:// or https://, got ${url}`);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/graphql';
  return parsed.toString();
}

export function remoteClient(options: RemoteOptions): SMSClient {
  if (!options.key) throw new UsageError('an API key is required: pass --key hk_… or set HERALD_API_KEY');
  return new SMSClient({ url: endpoint(options.url), apiKey: options.key });
}

/** One line saying why a call failed: the API's code and message, or why the server was not reached. */
export function describeFailure(error: unknown, url: string): string {
  if (error instanceof HeraldApiError) {
    const issues = Array.isArray(error.details.issues)
      ? (error.details.issues as { path: string[]; message: string }[]).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
      : '';
    return `${error.code}: ${error.message}${issues && !error.message.includes(issues) ? ` (${issues})` : ''}`;
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    let target = url;
    try {
      target = endpoint(url);
    } catch {
      // shown as given
    }
    return `cannot reach Herald at ${target}: ${cause?.code ?? cause?.message ?? 'network error'}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Whether a failed call may be sent again as is (the server did not or may not have acted on it). */
export function retryDelayMs(error: unknown, attempt: number): number | undefined {
  const backoff = Math.min(500 * 2 ** attempt, 10_000);
  if (error instanceof HeraldApiError) {
    if (error.code === 'RATE_LIMITED') {
      const errors = error.details.errors as { extensions?: { retryAfterSeconds?: number } }[] | undefined;
      const seconds = errors?.[0]?.extensions?.retryAfterSeconds;
      return typeof seconds === 'number' ? Math.min(seconds * 1000, 60_000) : backoff;
    }
    return error.status !== undefined && (error.status >= 502 || error.status === 408) ? backoff : undefined;
  }
  return error instanceof TypeError && error.message === 'fetch failed' ? backoff : undefined;
}

/** Reports a failure of a remote command and sets its exit code (2 for usage errors, 1 otherwise). */
export function fail(error: unknown, url: string): void {
  if (error instanceof UsageError) {
    console.error(`herald: ${error.message}`);
    process.exitCode = EXIT.USAGE;
    return;
  }
  console.error(`herald: ${describeFailure(error, url)}`);
  process.exitCode = EXIT.REFUSED;
}

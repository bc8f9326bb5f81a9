// `herald send`: one message through a running Herald (HTTP + API key), never the database.
import { InvalidArgumentError } from 'commander';
import { fail, remoteClient, remoteCommand, UsageError, type RemoteOptions } from './remote.js';

interface SendOptions extends RemoteOptions {
  to: string;
  body?: string;
  template?: string;
  var?: Record<string, string>;
  from?: string;
  scheduledAt?: string;
  idempotencyKey?: string;
  json?: boolean;
}

/** `--var name=value`, repeatable; the value may contain `=`. */
export function collectVariable(pair: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = pair.indexOf('=');
  const name = at > 0 ? pair.slice(0, at).trim() : '';
  if (!name) throw new InvalidArgumentError('expected name=value');
  if (Object.hasOwn(previous, name)) throw new InvalidArgumentError(`"${name}" given twice`);
  return { ...previous, [name]: pair.slice(at + 1) };
}

export function parseDateTime(value: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new InvalidArgumentError('expected an ISO 8601 date and time, e.g. 2030-01-31T09:00:00Z');
  return new Date(time).toISOString();
}

export function sendCommand() {
  return remoteCommand('send')
    .description('send one message through a running Herald (over HTTP with an API key); prints its id and status')
    .requiredOption('--to <number>', 'recipient, any format the server can normalise to E.164')
    .option('--body <text>', 'the text to send')
    .option('--template <id>', 'an APPROVED template to send instead of --body')
    .option('--var <name=value>', 'a template variable (repeat for each)', collectVariable)
    .option('--from <sender>', 'sender id or number')
    .option('--scheduled-at <time>', 'send later (ISO 8601)', parseDateTime)
    .option('--idempotency-key <key>', 'a retry with the same key and input sends nothing new')
    .option('--json', 'print the stored message as JSON instead of "id status"')
    .addHelpText(
      'after',
      `
Exit status: 0 sent (queued or scheduled), 1 refused by the server (code and reason on stderr) or
server not reachable, 2 usage error.

Examples:
  herald send --to +14155550100 --body "Your code is 123456"
  herald send --to +14155550100 --template TEMPLATE_ID --var name=Ada --var order=A-17`,
    )
    .action(async (opts: SendOptions) => {
      try {
        if (!opts.body === !opts.template) throw new UsageError('give exactly one of --body or --template');
        const variables = opts.var;
        if (variables && !opts.template) throw new UsageError('--var needs --template (variables fill a template)');
        const client = remoteClient(opts);
        const message = await client.sendSMS({
          to: opts.to,
          message: opts.body,
          templateId: opts.template,
          variables,
          from: opts.from,
          scheduledAt: opts.scheduledAt,
          idempotencyKey: opts.idempotencyKey,
        });
        if (opts.json) console.log(JSON.stringify(message, null, 2));
        else console.log(`${message.id} ${message.status}`);
      } catch (error) {
        fail(error, opts.url);
      }
    });
}

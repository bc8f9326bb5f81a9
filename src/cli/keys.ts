// `herald keys create|list|revoke`: API keys, on the database directly.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config/config.js';
import { withDatabase } from './database.js';

/** How long `keys revoke` waits for Redis to take its announcement. */
const ANNOUNCE_TIMEOUT_MS = 5_000;

async function openPubSub(cfg: Config) {
  const [{ createLogger }, { createHeraldPubSub }] = await Promise.all([import('../logging/logger.js'), import('../pubsub/pubsub.js')]);
  // Errors only: while Redis is unreachable the connection retries (and would warn) every few
  // hundred ms; the command says once what happened.
  return createHeraldPubSub({ redisUrl: cfg.redisUrl, logger: createLogger({ ...cfg, logLevel: 'error' }) });
}

function nonEmpty(value: string): string {
  if (!value.trim()) throw new InvalidArgumentError('must not be empty');
  return value.trim();
}

// One declarative commander definition per subcommand (create, list, revoke): long because each
// option and message is spelled out, not because it branches.
export function keysCommand(config: () => Config): Command {
  const keys = new Command('keys').description('manage API keys');

  keys
    .command('create')
    .description('create an API key; prints it once, as the last line of output')
    .requiredOption('--name <name>', 'a label for the key', nonEmpty)
    .addOption(new Option('--role <role>', 'what the key may do').choices(['ADMIN', 'SENDER']).default('SENDER'))
    .option('--account <name>', 'account to create the key in (created if missing)', nonEmpty, 'default')
    .action(async (opts: { name: string; role: 'ADMIN' | 'SENDER'; account: string }) => {
      const key = await withDatabase(config(), async ({ prisma }) => {
        const { createApiKey, ensureAccount } = await import('../services/api-keys.js');
        const account = await ensureAccount(prisma, opts.account);
        // The CLI has no key of its own: the audit log names the command instead.
        return createApiKey(prisma, { accountId: account.id, name: opts.name, role: opts.role }, { accountId: account.id, keyId: null, keyName: 'herald keys create' });
      });
      console.log(`Created ${key.role} key "${key.name}" (id ${key.id}) in account "${opts.account}". It is shown once:`);
      console.log(key.secret);
    });

  keys
    .command('list')
    .description('list the keys of an account (never their secrets)')
    .option('--account <name>', 'account name', nonEmpty, 'default')
    .action(async (opts: { account: string }) => {
      const rows = await withDatabase(config(), ({ prisma }) =>
        prisma.apiKey.findMany({ where: { account: { name: opts.account } }, orderBy: { createdAt: 'asc' } }),
      );
      if (rows.length === 0) return console.log(`no keys in account "${opts.account}"`);
      console.table(
        rows.map((k) => ({
          id: k.id,
          name: k.name,
          role: k.role,
          prefix: k.prefix,
          created: k.createdAt.toISOString(),
          lastUsed: k.lastUsedAt?.toISOString() ?? '',
          revoked: k.revokedAt?.toISOString() ?? '',
        })),
      );
    });

  keys
    .command('revoke')
    .description('revoke a key by its id or prefix: refused from its next request; with REDIS_URL its open WebSockets close at once')
    .argument('<key>', 'key id (from `keys list`) or prefix')
    .action(async (idOrPrefix: string) => {
      const cfg = config();
      // Announced on the servers' own pub/sub, as revokeApiKey over GraphQL does: every
      // instance closes the key's open WebSockets (4403) at once.
      const pubsub = cfg.redisUrl ? await openPubSub(cfg) : undefined;
      let announced: boolean | undefined;
      let result;
      try {
        result = await withDatabase(cfg, async ({ prisma }) => {
          const key = await prisma.apiKey.findFirst({
            where: /^[0-9a-f-]{36}$/i.test(idOrPrefix) ? { id: idOrPrefix } : { prefix: idOrPrefix },
          });
          const { revokeApiKey } = await import('../services/api-keys.js');
          return key ? revokeApiKey(prisma, key.accountId, key.id, pubsub, { accountId: key.accountId, keyId: null, keyName: 'herald keys revoke' }) : undefined;
        });
      } finally {
        announced = await pubsub?.close({ timeoutMs: ANNOUNCE_TIMEOUT_MS });
      }
      if (!result || result instanceof Error) {
        console.error(`no key with id or prefix "${idOrPrefix}"`);
        process.exitCode = 1;
        return;
      }
      console.log(`revoked key "${result.name}" (${result.prefix}): refused from its next request`);
      // Without Redis nothing reaches the servers: their pub/sub is in-process, and PostgreSQL's
      // LISTEN/NOTIFY channel only wakes dispatchers (no payload). With the embedded database no
      // server runs beside the CLI (DATA_DIR lock), so there is nothing to tell.
      if (announced) console.log('announced on Redis: every instance closes its open WebSocket subscriptions now');
      else if (cfg.redisUrl) {
        console.error(`herald: could not announce it on Redis (not reached within ${ANNOUNCE_TIMEOUT_MS / 1000} s); the key's open subscriptions close on their next reconnect`);
      } else if (cfg.databaseUrl) {
        console.log("the key's open subscriptions close on their next reconnect; set REDIS_URL (as the servers have it) to close them at once");
      }
    });

  return keys;
}

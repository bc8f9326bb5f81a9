// The `herald` command. Uses the same environment (DATABASE_URL / DATA_DIR) as the server.
//
// The database, the runtime and the services are imported inside the commands that use them:
// loading Prisma, PGlite and the providers takes seconds, which `herald send` (an HTTP client)
// and `--help` should not pay.
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { DataDirBusyError } from '../db/data-dir-lock.js';
import { MigrationError } from '../db/migrate.js';
import { backupCommands } from './backup.js';
import { bulkCommand } from './bulk.js';
import { withDatabase } from './database.js';
import { keysCommand } from './keys.js';
import { pricesCommand } from './prices.js';
import { workerCommand } from './worker.js';
import { sendCommand } from './send.js';

export function buildCli(config: () => Config): Command {
  const program = new Command('herald').description('Herald SMS gateway').showHelpAfterError();
  program.addCommand(keysCommand(config));
  program.addCommand(pricesCommand(config));
  program.addCommand(workerCommand(config));
  for (const command of backupCommands(config)) program.addCommand(command);
  program
    .command('simulator-secret')
    .description("print the simulator's webhook signing secret (shared by every instance on one database)")
    .action(async () => {
      const { getSimulatorSecret } = await import('../services/secrets.js');
      const { createSecretStore } = await import('../store/secrets.js');
      const secret = await withDatabase(config(), ({ prisma }) => getSimulatorSecret(createSecretStore(prisma)));
      console.log(secret);
    });

  // Clients of a running Herald (HTTP and an API key): they never open the database.
  program.addCommand(sendCommand());
  program.addCommand(bulkCommand());

  return program;
}

async function main(): Promise<void> {
  try {
    await buildCli(() => loadConfig()).parseAsync(process.argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirBusyError || error instanceof MigrationError) {
      console.error(`herald: ${error.message}`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    }
    throw error;
  }
}

await main();

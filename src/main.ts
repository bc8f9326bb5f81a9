// `npm start`: read config, start, print the URL (and the first key), stop on signals. On
// PostgreSQL with HTTP_WORKERS > 0 (the default there), this process forks the HTTP workers and
// a dispatcher, which run this same file (app/cluster.ts).
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './logging/logger.js';
import { openDatabaseEarly } from './db/database.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  // The database starts opening (a new embedded one copied from its template, on other threads)
  // while the rest of the server's modules load (src/db/database.ts).
  openDatabaseEarly({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder: 'herald server' });
  if (cluster.isWorker) {
    try {
      const { startWorker } = await import('./app/cluster.js');
      await startWorker(config, logger);
    } catch (error) {
      console.error(`herald: worker process cannot start: ${(error as Error).message}`);
      process.exit(1);
    }
    return;
  }
  let herald;
  try {
    if (config.httpWorkers > 0) {
      const { startPrimary } = await import('./app/cluster.js');
      herald = await startPrimary(config, logger);
    } else {
      const { startHerald } = await import('./app/server.js');
      herald = await startHerald({ config, logger });
    }
  } catch (error) {
    console.error(`herald: cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  if (herald.bootstrapKey) {
    console.log('Created account "default" and its first ADMIN API key. It is shown once; store it now:');
    console.log(`  ${herald.bootstrapKey.secret}`);
  }
  console.log(`Herald listening on ${herald.url}/graphql (GraphiQL in a browser, graphql-ws on ws://${herald.url.slice(7)}/graphql)`);
  if (config.httpWorkers > 0) {
    console.log(`  ${config.httpWorkers} HTTP worker processes${config.dispatch ? ' and one that dispatches' : ''}; this one (pid ${process.pid}) coordinates them`);
  }

  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    herald.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

// Not awaited at the top level: the bundle that `npm start` runs is a CommonJS script (scripts/build-server.mjs).
void main();

// `herald worker`: a process that only dispatches (no HTTP), beside servers on one PostgreSQL.
import { Command } from 'commander';
import type { Config } from '../config/config.js';

export function workerCommand(config: () => Config): Command {
  return new Command('worker')
    .description('run only the dispatcher (no HTTP): claims queued messages and hands them to providers')
    .action(async () => {
      const cfg = config();
      const [{ createLogger }, { openDatabase }, { createRuntime }] = await Promise.all([
        import('../logging/logger.js'),
        import('../db/database.js'),
        import('../app/runtime.js'),
      ]);
      const logger = createLogger(cfg);
      const database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, holder: 'herald worker' });
      // Provider callbacks go to the servers' public URL: this process serves no HTTP.
      const publicUrl = cfg.publicUrl ?? `http://${cfg.host}:${cfg.port}`;
      const runtime = await createRuntime({ config: cfg, logger, database, publicUrl: () => publicUrl, dispatch: true });
      runtime.startDispatcher();
      console.log(`herald worker dispatching (providers: ${runtime.providers.map((p) => p.name).join(', ')}; callbacks to ${publicUrl})`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await runtime.stop();
      await database.close();
    });
}

// `herald prices import|export`: an account's provider price list as CSV, on the database
// directly (like `herald keys`). The checks and messages are importPrices' (services/prices.ts).
import { readFile, stat } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config/config.js';
import { ValidationError, type ValidationIssue } from '../domain/errors.js';
import { withDatabase } from './database.js';
import { definedProviderNames } from '../store/configuration.js';

function nonEmpty(value: string): string {
  if (!value.trim()) throw new InvalidArgumentError('must not be empty');
  return value.trim();
}

/** An issue as a line of output: ["csv", "3", "price"] → "line 3, price: …". */
export function describeIssue({ path, message }: ValidationIssue): string {
  const [, line, column] = path;
  if (!line) return message;
  return `line ${line}${column ? `, ${column}` : ''}: ${message}`;
}

export function pricesCommand(config: () => Config): Command {
  const prices = new Command('prices').description("manage an account's provider prices (CSV: provider,country,prefix,currency,price,effective_from)");

  prices
    .command('import')
    .description('import a CSV price list, all or nothing: a bad line is reported and nothing is written')
    .argument('<file>', 'the CSV file')
    .option('--account <name>', 'account name', nonEmpty, 'default')
    .option('--replace', "delete every price of the account first (in the same transaction)", false)
    .action(async (file: string, opts: { account: string; replace: boolean }) => {
      const cfg = config();
      const { importSizeIssue } = await import('../services/price-csv.js');
      let csv: string;
      try {
        // Refused before reading: a file far over the limit is not loaded into memory.
        const tooLarge = importSizeIssue((await stat(file)).size);
        if (tooLarge) return fail([tooLarge]);
        csv = await readFile(file, 'utf8');
      } catch (error) {
        console.error(`herald: cannot read ${file}: ${(error as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const result = await withDatabase(cfg, async ({ prisma }) => {
        const account = await prisma.account.findUnique({ where: { name: opts.account } });
        if (!account) return undefined;
        const { importPrices } = await import('../services/prices.js');
        return importPrices(prisma, account.id, csv, { providers: await definedProviderNames(prisma, cfg.providers), replace: opts.replace, author: { accountId: account.id, keyId: null, keyName: 'herald prices import (CLI)' } });
      });
      if (result === undefined) return noAccount(opts.account);
      if (result instanceof ValidationError) return fail(result.issues);
      console.log(`imported into account "${opts.account}": ${result.created} created, ${result.replaced} replaced, ${result.removed} removed`);
    });

  prices
    .command('export')
    .description("print the account's prices as CSV (importable again)")
    .option('--account <name>', 'account name', nonEmpty, 'default')
    .action(async (opts: { account: string }) => {
      const csv = await withDatabase(config(), async ({ prisma }) => {
        const account = await prisma.account.findUnique({ where: { name: opts.account } });
        if (!account) return undefined;
        const { exportPrices } = await import('../services/prices.js');
        return exportPrices(prisma, account.id);
      });
      if (csv === undefined) return noAccount(opts.account);
      process.stdout.write(csv);
    });

  return prices;
}

function fail(issues: readonly ValidationIssue[]): void {
  console.error('herald: the price list was not imported (nothing was written):');
  for (const issue of issues) console.error(`  ${describeIssue(issue)}`);
  process.exitCode = 1;
}

function noAccount(name: string): void {
  console.error(`herald: no account named "${name}" (\`herald keys create --account ${name}\` creates one)`);
  process.exitCode = 1;
}

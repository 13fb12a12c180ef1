import { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { migrate, openDatabase } from '../store/index.ts';
import { migrateJobs } from '../sync/index.ts';
import { createLogger } from '../telemetry/index.ts';

/** `subledger migrate`: applies the schema migrations (also done by `start`). */
export function migrateCommand(): Command {
  return new Command('migrate').description('Apply the database migrations and exit').action(async () => {
    const config = loadConfig();
    const database = await openDatabase(config);
    try {
      await migrate(database);
      await migrateJobs(database.pool, createLogger('warn'));
      console.log(
        `Migrations applied (${database.embedded ? `embedded PostgreSQL in ${config.dataDir}` : 'DATABASE_URL'}).`,
      );
    } finally {
      await database.close();
    }
  });
}

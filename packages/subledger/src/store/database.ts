import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema/index.ts';

export type Db = NodePgDatabase<typeof schema>;

export type Database = {
  pool: pg.Pool;
  db: Db;
  url: string;
  close: () => Promise<void>;
};

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

// Every bigint this schema stores (seconds, cents, sequence numbers) fits a JS number exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** A pool on `url`, with Drizzle over it. `onClose` runs after the pool ends (e.g. stopping a cluster). */
export function connect(
  url: string,
  options: { max?: number; onClose?: () => Promise<void> } = {},
): Database {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 20 });
  // An idle client losing its server (a restart, a killed backend) must not crash the process.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return {
    pool,
    db: drizzle(pool, { schema }),
    url,
    close: async () => {
      await pool.end();
      await options.onClose?.();
    },
  };
}

/**
 * Applies the numbered migrations in `migrations/`. Holds an advisory lock meanwhile, so several
 * processes starting together on one database migrate it once.
 */
export async function migrate(database: Database): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query(`select pg_advisory_lock(hashtext('subledger.migrate'))`);
    await applyMigrations(drizzle(client, { schema }), { migrationsFolder: MIGRATIONS });
  } finally {
    await client.query(`select pg_advisory_unlock(hashtext('subledger.migrate'))`).catch(() => {});
    client.release();
  }
}
